/**
 * SHA-256 through node:crypto for the many small hashes a verifier computes
 * (two or three per event): about 2.5 times @noble/hashes' speed on event-sized
 * inputs (bench/core.ts). `crypto.hash` is the one-shot form (Node 20.12+).
 * `hex` is what sealing an event asks for: node:crypto writes hex natively in
 * about half the time it takes to hand back a Buffer that is then written as
 * hex. (Asking for hex and decoding it where bytes are wanted measured no
 * faster in the verifier, so bytes still come as a Buffer.)
 */
import * as crypto from 'node:crypto';
import type { Sha256 } from './hash.js';

const oneShot = (
  crypto as unknown as { hash?: <E extends 'buffer' | 'hex'>(algorithm: string, data: Uint8Array | string, encoding: E) => E extends 'hex' ? string : Buffer }
).hash;

export const nodeSha256: Sha256 = Object.assign(
  oneShot ? (data: Uint8Array | string) => oneShot('sha256', data, 'buffer') : (data: Uint8Array | string) => crypto.createHash('sha256').update(data).digest(),
  {
    hex: oneShot
      ? (data: Uint8Array | string) => oneShot('sha256', data, 'hex')
      : (data: Uint8Array | string) => crypto.createHash('sha256').update(data).digest('hex'),
  },
);
