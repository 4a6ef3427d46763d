/**
 * What a reader pays for a certificate's transparency member (docs/transparency.md §12), called from
 * bench/tlog.ts: a checkpoint trusted (the note opened, the log key's attested statement checked, 0 to 3
 * witness cosignatures verified: `checkLogCheckpoint`), and the whole member checked (leaf, inclusion
 * proof of a leaf in a log of `size` leaves, checkpoint with one cosignature: `checkTransparency`), each
 * against its floor, one Ed25519 verification through @noble/curves (what every signature costs here).
 */
import { ed25519 } from '@noble/curves/ed25519';
import { leafOfCertificate } from '../src/tlog/index.js';
import { checkLogCheckpoint, checkTransparency, type LogPolicy } from '../src/verify/index.js';
import { richEvents } from '../src/verify/testing/conformance.js';
import { VECTOR_PUBLIC_KEY, sealEvents } from '../src/verify/testing/forge.js';
import { fixtureLogSync, syntheticLeaf } from '../src/verify/testing/log-fixture.js';
import { againstFloor, type BenchRow, median } from './types.js';

export async function transparencyVerificationRows(quick: boolean): Promise<BenchRow[]> {
  const runs = quick ? 50 : 300;
  const size = quick ? 10_000 : 100_000;
  const certificate = sealEvents(richEvents());
  const leaves = Array.from({ length: size }, (_, i) => syntheticLeaf(i, `run ${i % 97}`, null));
  const index = size - 1000;
  leaves[index] = leafOfCertificate(certificate, null);
  const log = fixtureLogSync(leaves, { witnesses: 3 });
  const pinned: LogPolicy = { trustedKeys: [VECTOR_PUBLIC_KEY] };

  const message = new TextEncoder().encode(log.checkpoint);
  const seed = new Uint8Array(32).fill(5);
  const signature = ed25519.sign(message, seed);
  const publicKey = ed25519.getPublicKey(seed);
  const oneSignature = await median(runs, () => ed25519.verify(signature, message, publicKey));
  const floor = { name: 'one Ed25519 signature verified (@noble/curves)', value: +oneSignature.toFixed(3), unit: 'ms' };

  const rows: BenchRow[] = [];
  for (const witnesses of [0, 1, 3]) {
    const policy: LogPolicy = { ...pinned, witnesses: log.witnesses.slice(0, witnesses).map((w) => w.vkey) };
    const ms = await median(runs, () => checkLogCheckpoint(log.checkpoint, log.logKey, policy));
    rows.push(
      againstFloor(
        {
          name: `checkpoint trusted: note opened, attested log key, ${witnesses} cosignature${witnesses === 1 ? '' : 's'} verified`,
          value: +ms.toFixed(3),
          unit: 'ms',
          note: `${2 + witnesses} Ed25519 verifications (the statement's attestation, the log's signature, the cosignatures)`,
        },
        floor,
      ),
    );
  }
  const member = log.transparencyNow(index);
  const policy: LogPolicy = { ...pinned, witnesses: [log.witnesses[0]!.vkey] };
  const ms = await median(runs, () => checkTransparency(certificate, member, policy));
  rows.push(
    againstFloor(
      {
        name: `certificate transparency member checked: leaf, inclusion proof at ${size} leaves, checkpoint, 1 witness`,
        value: +ms.toFixed(3),
        unit: 'ms',
        note: `${member.inclusion_proof.length} proof hashes; 3 Ed25519 verifications (attestation, log, witness), each key checked strictly`,
      },
      floor,
    ),
  );
  return rows;
}
