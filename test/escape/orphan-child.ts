// Test support for THREATS B24: a process that holds a sandbox running a marked
// sleeper, to be killed with SIGKILL by the battery. Prints "ready" once running.
import { ulid } from 'ulid';
import { createSandbox } from '../../src/sandbox/index.js';

const marker = process.argv[2]!;
const sandbox = await createSandbox({
  executionId: ulid(),
  dataset: new Uint8Array(1),
  datasetFile: 'd.txt',
  scripts: [],
  limits: { timeoutMs: 60_000, memoryMb: 64, maxProcesses: 16, cpuSeconds: 60, workBytes: 1 << 20, outBytes: 1 << 20, outputBytes: 1 << 12, maxOpenFiles: 32 },
  networkAllow: [],
});
void sandbox.run({ kind: 'bash', command: `exec -a ${marker} sleep 300` });
setTimeout(() => process.stdout.write('ready\n'), 500);
