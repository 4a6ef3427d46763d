/**
 * The log end to end below HTTP: the sequencer over the SQLite ledger, the
 * projection into a real tile store, everything read back and verified with
 * src/tlog (openCheckpoint, TiledTree, checkEntryBundle) and src/attest's
 * verifyInclusion; restart, a crash between the ledger append and the tile
 * writes, a stray sequencer's batch, cosignatures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { leafHash as merkleLeafHash, verifyConsistency, verifyInclusion } from '../../attest/index.js';
import { SimulatedAttestor } from '../../attest/node.js';
import { hexToBytes } from '../../events/index.js';
import { SqliteTlogLedger } from '../../events/tlog-ledger-sqlite.js';
import { openLogKey, type LogKey } from '../../commands/tlog/log-key.js';
import { Sequencer, type WitnessSubmitter } from '../../commands/tlog/sequencer.js';
import {
  TLOG_RECORD_MAX_BYTES,
  TiledTree,
  batchRecord,
  checkEntryBundle,
  encodeLeaf,
  encodeTlogRecord,
  formatCheckpoint,
  generateCosignerKey,
  leafOfCertificate,
  openCheckpoint,
  openNote,
  parseCosignerSignerKey,
  parseCosignerVerifierKey,
  parseNoteVerifierKey,
  signNote,
  type LoggableCertificate,
} from '../../tlog/index.js';
import { TlogProjection } from './log-projection.js';
import { TileStore } from './tile-store.js';
import { listSource, sealedCertificate } from './testing/certificates.js';

const root = mkdtempSync(join(tmpdir(), 'tlog-log-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

class FailingStore extends TileStore {
  override async write(): Promise<void> {
    throw new Error('disk full');
  }
}

const fixedDate = new Date('2026-12-01T10:00:00.000Z');

interface World {
  dir: string;
  ledger: SqliteTlogLedger;
  key: LogKey;
  certificates: LoggableCertificate[];
}

async function world(): Promise<World> {
  const dir = mkdtempSync(join(root, 'node-'));
  return { dir, ledger: new SqliteTlogLedger(join(dir, 'events.sqlite')), key: await openLogKey(new SimulatedAttestor(dir), null), certificates: [] };
}

function projectionOf(w: World, store = new TileStore(join(w.dir, 'tlog')), preferCosigned = false, witnesses: string[] = []): TlogProjection {
  return new TlogProjection({
    store,
    origin: w.key.origin,
    verifier: parseNoteVerifierKey(w.key.vkey),
    preferCosigned,
    witnesses: witnesses.map(parseCosignerVerifierKey),
  });
}

function sequencerOf(w: World, log: TlogProjection, batchMax = 256): Sequencer {
  return new Sequencer({ ledger: w.ledger, log, candidates: listSource(w.certificates), key: w.key, batchMax, intervalMs: 1000 });
}

/** Certificates of three fingerprints, sealed a millisecond apart (in order). */
function addCertificates(w: World, count: number): LoggableCertificate[] {
  const made: LoggableCertificate[] = Array.from({ length: count }, (_, i) =>
    sealedCertificate(['a', 'b', 'c'][i % 3]!, new Date(fixedDate.getTime() + w.certificates.length + i)),
  );
  w.certificates.push(...made);
  return made;
}

async function verifyEverything(w: World, log: TlogProjection): Promise<void> {
  const latest = log.latest!;
  const { checkpoint } = openCheckpoint(latest.checkpoint, [parseNoteVerifierKey(w.key.vkey)]);
  expect(checkpoint.origin).toBe(w.key.origin);
  expect(checkpoint.size).toBe(log.size);
  const store = new TileStore(join(w.dir, 'tlog'));
  const tree = new TiledTree({ size: checkpoint.size, root: checkpoint.rootHash }, async (path) => (await store.read(path))!);
  await tree.verifyRoot();
  for (let bundle = 0; bundle * 256 < checkpoint.size; bundle++) {
    const width = Math.min(256, checkpoint.size - bundle * 256);
    const bytes = (await store.read(`tile/entries/${String(bundle).padStart(3, '0')}${width < 256 ? `.p/${width}` : ''}`))!;
    expect(checkEntryBundle(bytes, await tree.tile(0, bundle))).toHaveLength(width);
  }
  const document = await w.key.document();
  const last = new Map<string, number>();
  for (const [index, certificate] of w.certificates.slice(0, checkpoint.size).entries()) {
    const answer = (await log.transparencyOf(certificate.certificate_id, document))!;
    expect(answer.leaf_index).toBe(index);
    expect(answer.leaf).toEqual(leafOfCertificate(certificate, last.get(certificate.fingerprint) ?? null));
    last.set(certificate.fingerprint, index);
    verifyInclusion(merkleLeafHash(encodeLeaf(answer.leaf)), index, checkpoint.size, answer.inclusion_proof.map(hexToBytes), checkpoint.rootHash);
  }
}

describe('the transparency log (sequencer, SQLite ledger, tile store)', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });

  it('sequences sealed certificates in batches, oldest first, each once, with the history chain; tiles, bundles and proofs verify', async () => {
    const log = projectionOf(w);
    const sequencer = sequencerOf(w, log, 256);
    expect(await sequencer.tick()).toBe(0);
    expect(log.latest).toBeNull();
    addCertificates(w, 300);
    // Handed over newest first: the sequencer orders them by sealed_at.
    w.certificates.reverse();
    expect(await sequencer.tick()).toBe(256);
    w.certificates.reverse();
    expect(await sequencer.tick()).toBe(44);
    expect(await sequencer.tick()).toBe(0);
    addCertificates(w, 230);
    expect(await sequencer.tick()).toBe(230);
    expect(log.size).toBe(530);
    await verifyEverything(w, log);
    const history = await log.history(w.certificates[0]!.fingerprint, await w.key.document());
    expect(history.leaves.map((l) => l.leaf_index)).toEqual(Array.from({ length: 177 }, (_, i) => 528 - 3 * i));
    expect(history.leaves.map((l) => l.leaf.prev)).toEqual([...history.leaves.slice(1).map((l) => l.leaf_index), null]);
    const page = await log.history(w.certificates[0]!.fingerprint, await w.key.document(), 9);
    expect(page.leaves.map((l) => l.leaf_index)).toEqual([6, 3, 0]);
    expect(log.ignored).toEqual([]);
  });

  it('splits a large round into records under the size bound, each with its checkpoint, in one tick', async () => {
    const log = projectionOf(w);
    addCertificates(w, 3000);
    expect(await sequencerOf(w, log, 4096).tick()).toBe(3000);
    const records = await w.ledger.readFrom(-1, 100);
    expect(records.length).toBeGreaterThan(2);
    for (const record of records) expect(record.text.length).toBeLessThanOrEqual(TLOG_RECORD_MAX_BYTES);
    await verifyEverything(w, log);
  });

  it('a restart re-reads the ledger into the same tree, and sequences on without logging anything twice', async () => {
    const first = projectionOf(w);
    addCertificates(w, 100);
    await sequencerOf(w, first, 64).tick();
    await sequencerOf(w, first, 64).tick();
    const again = projectionOf(w);
    await again.catchUp(w.ledger);
    expect(again.size).toBe(100);
    expect(again.latest).toEqual(first.latest);
    addCertificates(w, 10);
    expect(await sequencerOf(w, again).tick()).toBe(10);
    await verifyEverything(w, again);
  });

  it('a crash between the ledger append and the tile writes loses nothing: the next start applies the batch', async () => {
    const good = projectionOf(w);
    addCertificates(w, 20);
    await sequencerOf(w, good).tick();
    // The tile store fails (a full disk, a kill): the batch is durable in the ledger, the tick fails after it.
    const broken = projectionOf(w, new FailingStore(join(w.dir, 'tlog')));
    await broken.catchUp(w.ledger);
    addCertificates(w, 7);
    await expect(sequencerOf(w, broken).tick()).rejects.toThrow('disk full');
    expect(broken.size).toBe(20);
    expect((await w.ledger.readFrom(-1, 10)).length).toBe(2);
    const restarted = projectionOf(w);
    await restarted.catchUp(w.ledger);
    expect(restarted.size).toBe(27);
    expect(await sequencerOf(w, restarted).tick()).toBe(0);
    await verifyEverything(w, restarted);
  });

  it('a tile store left from another ledger (a new topic, a reset event log) is rewritten, never served under the new tree', async () => {
    // The old ledger: 5 then 3 leaves, so the store holds partial tiles and bundles at widths 5 and 8.
    const old = projectionOf(w);
    addCertificates(w, 5);
    await sequencerOf(w, old).tick();
    addCertificates(w, 3);
    await sequencerOf(w, old).tick();
    // The same data directory and key on a fresh ledger: other certificates at the same indexes, 5 then 2.
    const fresh: World = { ...w, ledger: new SqliteTlogLedger(join(w.dir, 'fresh.sqlite')), certificates: [] };
    const log = projectionOf(fresh);
    fresh.certificates.push(...Array.from({ length: 5 }, (_, i) => sealedCertificate('z', new Date(fixedDate.getTime() + 1000 + i))));
    await sequencerOf(fresh, log).tick();
    expect(log.size).toBe(5);
    await verifyEverything(fresh, log);
    addCertificates(fresh, 2);
    await sequencerOf(fresh, log).tick();
    await verifyEverything(fresh, log);
    // And a restart on it reads the fresh tree back (its own checkpoint is stored now).
    const restarted = projectionOf(fresh);
    await restarted.catchUp(fresh.ledger);
    expect(restarted.latest).toEqual(log.latest);
    await verifyEverything(fresh, restarted);
  });

  it('never appends a batch its projection would ignore (a certificate twice, a leaf that does not parse): the log goes on', async () => {
    const log = projectionOf(w);
    const [a, b] = addCertificates(w, 2);
    const unsealed = { ...sealedCertificate('u', new Date(fixedDate.getTime() + 50)), certificate_id: 'cert_not-a-ulid' };
    const errors: unknown[] = [];
    const candidates = async () => [a!, unsealed, b!, a!];
    const sequencer = new Sequencer({ ledger: w.ledger, log, candidates, key: w.key, batchMax: 256, intervalMs: 1000, onError: (e) => errors.push(e) });
    expect(await sequencer.tick()).toBe(2);
    expect(log.ignoredCount).toBe(0);
    expect(errors).toHaveLength(1);
    addCertificates(w, 3);
    expect(await sequencerOf(w, log).tick()).toBe(3);
    await verifyEverything(w, log);
  });

  it("ignores a stray sequencer's batch, a forged checkpoint and a broken chain, and keeps their positions as evidence", async () => {
    const log = projectionOf(w);
    addCertificates(w, 5);
    await sequencerOf(w, log).tick();
    const stray = sealedCertificate('z', new Date(fixedDate.getTime() + 100));
    const entry = encodeLeaf(leafOfCertificate(stray, null));
    const signed = (size: number, rootHash: Uint8Array) =>
      signNote({ text: formatCheckpoint({ origin: w.key.origin, size, rootHash, extensions: [] }) }, [w.key.signer]);
    const builder = log.fork();
    builder.append([merkleLeafHash(entry)]);
    // At an index the log already has (SQLite refuses a second batch at the same index: this one is one past it).
    const positions = [
      await w.ledger.append(encodeTlogRecord(batchRecord(w.key.origin, 3, [entry], signed(4, builder.root()))), null),
      await w.ledger.append(encodeTlogRecord(batchRecord(w.key.origin, 5, [entry], signed(6, new Uint8Array(32)))), null),
      await w.ledger.append(
        encodeTlogRecord(batchRecord(w.key.origin, 5, [encodeLeaf(leafOfCertificate(w.certificates[0]!, null))], signed(6, builder.root()))),
        null,
      ),
      await w.ledger.append('{"not":"a record"}', null),
    ];
    await log.catchUp(w.ledger);
    expect(log.ignored).toEqual(positions);
    expect(log.ignoredCount).toBe(4);
    expect(log.size).toBe(5);
    await verifyEverything(w, log);
  });

  it('sends each new checkpoint to the witnesses in the background, with the consistency proof, and serves their cosignatures', async () => {
    const witness = generateCosignerKey('witness.example');
    const log = projectionOf(w, undefined, true, [witness.vkey]);
    const cosigner = parseCosignerSignerKey(witness.skey);
    const logVerifier = parseNoteVerifierKey(w.key.vkey);
    const seen: number[] = [];
    let last: { size: number; root: Uint8Array } | null = null;
    const witnesses: WitnessSubmitter = {
      async submit({ origin, checkpoint, size, consistencyProof }) {
        expect(origin).toBe(w.key.origin);
        const opened = openCheckpoint(checkpoint, [logVerifier]);
        expect(opened.checkpoint.size).toBe(size);
        if (last) verifyConsistency(last.size, size, await consistencyProof(last.size), last.root, opened.checkpoint.rootHash);
        last = { size, root: opened.checkpoint.rootHash };
        seen.push(size);
        return [signNote({ text: opened.note.text }, [cosigner]).slice(opened.note.text.length + 1)];
      },
    };
    const sequencer = new Sequencer({ ledger: w.ledger, log, candidates: listSource(w.certificates), key: w.key, batchMax: 256, intervalMs: 1000, witnesses });
    addCertificates(w, 10);
    await sequencer.tick();
    await sequencer.stop(); // waits for the witness round
    addCertificates(w, 300);
    await sequencer.tick();
    await sequencer.stop();
    await sequencer.tick();
    await sequencer.stop();
    expect(seen).toEqual([10, 266, 310]);
    // A restarted sequencer sends the checkpoint no witness has cosigned in it yet, without waiting for a new leaf.
    const restarted = new Sequencer({ ledger: w.ledger, log, candidates: listSource(w.certificates), key: w.key, batchMax: 256, intervalMs: 1000, witnesses });
    last = null;
    await restarted.tick();
    await restarted.stop();
    expect(seen).toEqual([10, 266, 310, 310]);
    const served = log.latest!.checkpoint;
    expect(openNote(served, [logVerifier, parseCosignerVerifierKey(witness.vkey)]).verified).toHaveLength(2);
    const proved = (await log.transparencyOf(w.certificates[0]!.certificate_id, await w.key.document()))!;
    expect(proved.checkpoint).toBe(served);
  });

  it('serves the cosigned checkpoint: the note with the cosignature lines the ledger records', async () => {
    const witness = generateCosignerKey('witness.example');
    const log = projectionOf(w, undefined, true, [witness.vkey]);
    addCertificates(w, 3);
    await sequencerOf(w, log).tick();
    const cosigner = parseCosignerSignerKey(witness.skey);
    const note = log.latestNote!.note;
    const { text } = openNote(note, [parseNoteVerifierKey(w.key.vkey)]);
    const line = signNote({ text }, [cosigner]).slice(text.length + 1);
    await w.ledger.append(encodeTlogRecord({ type: 'ephemera.tlog-cosignatures', v: 1, origin: w.key.origin, size: 3, cosignatures: line }), null);
    await log.catchUp(w.ledger);
    const served = log.latest!.checkpoint;
    expect(served).toBe(note + line);
    const opened = openNote(served, [parseNoteVerifierKey(w.key.vkey), parseCosignerVerifierKey(witness.vkey)]);
    expect(opened.verified).toHaveLength(2);
    expect((await log.transparencyOf(w.certificates[1]!.certificate_id, await w.key.document()))!.checkpoint).toBe(served);
    expect((await new TileStore(join(w.dir, 'tlog')).readCheckpoint())!).toBe(served);
  });

  it("never serves a cosignature line that does not verify under a configured witness's key (a shared ledger anyone may write)", async () => {
    // A forged line under the witness's name and key ID would make every reader who counts that witness refuse the
    // checkpoint (a known key's bad signature refuses the note); a stranger's line would make it look cosigned.
    const witness = generateCosignerKey('witness.example');
    const log = projectionOf(w, undefined, true, [witness.vkey]);
    addCertificates(w, 3);
    await sequencerOf(w, log).tick();
    const note = log.latestNote!.note;
    const { text } = openNote(note, [parseNoteVerifierKey(w.key.vkey)]);
    const good = signNote({ text }, [parseCosignerSignerKey(witness.skey)]).slice(text.length + 1);
    const forged = `${good.slice(0, -6)}${good.at(-6) === 'A' ? 'B' : 'A'}${good.slice(-5)}`;
    const stranger = signNote({ text }, [parseCosignerSignerKey(generateCosignerKey('stranger.example').skey)]).slice(text.length + 1);
    for (const cosignatures of [forged, stranger])
      await w.ledger.append(encodeTlogRecord({ type: 'ephemera.tlog-cosignatures', v: 1, origin: w.key.origin, size: 3, cosignatures }), null);
    await log.catchUp(w.ledger);
    expect(log.latest!.checkpoint).toBe(note);
    expect(log.ignoredCount).toBe(2);
    expect((await new TileStore(join(w.dir, 'tlog')).readCheckpoint())!).toBe(note);
    // With a good line among them, only the good one is kept.
    await w.ledger.append(
      encodeTlogRecord({ type: 'ephemera.tlog-cosignatures', v: 1, origin: w.key.origin, size: 3, cosignatures: forged + good + stranger }),
      null,
    );
    await log.catchUp(w.ledger);
    expect(log.latest!.checkpoint).toBe(note + good);
  });
});
