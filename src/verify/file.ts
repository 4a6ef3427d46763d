/**
 * Verifying a certificate file (Node): read as a stream, in this thread for
 * ordinary files, and for large ones with the reading, hashing and Merkle
 * range in a worker thread (reader-worker.ts) while this thread parses,
 * checks and derives. Both run the same CertificateReader and hand the
 * verifier the same items in the same order, so the verdict is the same.
 */
import { createReadStream, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
// node-hash.js, not the node.js door: that one also loads the log backends (SQLite, Kafka).
import { nodeSha256 } from '../events/node-hash.js';
import { CertificateVerifier, verifyCertificateChunks } from './verify.js';
import type { Verdict, VerifyOptions } from './verdict.js';
import { nodeUtf8Decoder } from './node-utf8.js';
import type { ReaderItem } from './reader.js';
import type { ReaderWorkerData } from './reader-worker.js';

/** From this size on a worker reads (its start costs ~0.2 s under tsx; verifying 16 MiB alone takes ~0.5 s). */
export const WORKER_THRESHOLD_BYTES = 16 * 1024 * 1024;

export interface FileOptions {
  /** Use a reader thread: true, false, or by size (default). */
  worker?: boolean;
  /** The worker's script when the sources are bundled (the bench); default: reader-worker.ts beside this file. */
  workerUrl?: URL;
}

export async function verifyCertificateFile(path: string, options: VerifyOptions = {}, file: FileOptions = {}): Promise<Verdict> {
  const size = statSync(path).size;
  const sha256 = options.sha256 ?? nodeSha256;
  if (!(file.worker ?? size >= WORKER_THRESHOLD_BYTES)) {
    return verifyCertificateChunks(
      createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>,
      { ...options, sha256 },
      { declaredBytes: size, decode: nodeUtf8Decoder() },
    );
  }
  const verifier = new CertificateVerifier({ ...options, sha256 });
  const data: ReaderWorkerData = { path, limits: verifier.limits, declaredBytes: size, acknowledged: new SharedArrayBuffer(4) };
  const acknowledged = new Int32Array(data.acknowledged);
  const worker = startWorker(data, file.workerUrl);
  await new Promise<void>((resolve) => {
    let done = false;
    const stop = () => {
      if (done) return;
      done = true;
      void worker.terminate();
      resolve();
    };
    worker.on('message', (items: ReaderItem[]) => {
      if (done) return;
      for (const item of items) {
        if (!verifier.read(() => verifier.apply(item)) || item.kind === 'end') return stop();
      }
      Atomics.add(acknowledged, 0, 1);
      Atomics.notify(acknowledged, 0);
    });
    worker.on('error', () => {
      verifier.read(() => verifier.apply({ kind: 'error', code: 'VERIFY_INTERNAL', message: 'the reader thread failed; please report it', field: null }));
      stop();
    });
    worker.on('exit', () => {
      if (!done)
        verifier.read(() =>
          verifier.apply({ kind: 'error', code: 'VERIFY_INTERNAL', message: 'the reader thread ended early; please report it', field: null }),
        );
      stop();
    });
  });
  return verifier.finish();
}

/** Under tsx (a checkout run from source) the worker registers tsx itself; a bundle names its worker script. */
function startWorker(workerData: ReaderWorkerData, workerUrl?: URL): Worker {
  if (workerUrl) return new Worker(workerUrl, { workerData });
  const script = new URL(import.meta.url.endsWith('.ts') ? './reader-worker.ts' : './reader-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return new Worker(script, { workerData });
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(script.href)}); })`, { eval: true, workerData });
}
