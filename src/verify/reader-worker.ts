/**
 * Worker thread for large certificate files (node.ts): reads the file with
 * the same CertificateReader the verifier uses in-thread, and posts its items
 * in batches. At most a few batches are in flight: the verifier acknowledges
 * each through a shared counter, so a reader faster than the verifier waits
 * instead of filling memory with events not yet checked. Node only.
 */
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
// node-hash.js, not the node.js door: that one also loads the log backends (SQLite, Kafka).
import { nodeSha256 } from '../events/node-hash.js';
import { nodeUtf8Decoder } from './node-utf8.js';
import { CertificateReader, errorItem, type ReaderItem, type ReaderLimits } from './reader.js';

export interface ReaderWorkerData {
  path: string;
  limits: ReaderLimits;
  declaredBytes: number;
  /** Int32 count of batches the verifier has finished with. */
  acknowledged: SharedArrayBuffer;
}

/** Events per message, and messages the verifier may have waiting. */
const BATCH = 2048;
const IN_FLIGHT = 4;

const data = workerData as ReaderWorkerData;
const acknowledged = new Int32Array(data.acknowledged);
let batch: ReaderItem[] = [];
let sent = 0;

function flush(): void {
  if (batch.length === 0) return;
  parentPort!.postMessage(batch);
  batch = [];
  sent += 1;
  for (let seen = Atomics.load(acknowledged, 0); sent - seen > IN_FLIGHT; seen = Atomics.load(acknowledged, 0)) Atomics.wait(acknowledged, 0, seen, 1000);
}

const reader = new CertificateReader(
  (item) => {
    batch.push(item);
    if (batch.length >= BATCH) flush();
  },
  data.limits,
  nodeSha256,
  false,
  nodeUtf8Decoder(),
);

try {
  reader.declare(data.declaredBytes);
  for await (const chunk of createReadStream(data.path, { highWaterMark: 1 << 20 })) reader.push(chunk as Buffer);
  reader.end();
} catch (error) {
  batch.push(errorItem(error));
}
flush();
