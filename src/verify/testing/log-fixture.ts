/**
 * A small, real transparency log for tests (docs/transparency.md §8–14):
 * leaves of given certificates (or synthetic ones), tiles from TileBuilder,
 * a checkpoint signed by a log key whose statement is attested by the
 * simulated vector key (src/verify/testing/forge.ts), optional witness
 * cosignatures, and the answers the log's routes give. Tests only.
 */
import { bytesToHex, sha256Bytes, utf8ToBytes, type Hash } from '../../events/index.js';
import {
  TileBuilder,
  TiledTree,
  encodeLeaf,
  formatCheckpoint,
  formatTilePath,
  formatEntryBundlePath,
  encodeEntryBundle,
  generateCosignerKey,
  generateNoteKey,
  logKeyReportData,
  logKeyStatementHash,
  parseCosignerSignerKey,
  parseNoteSignerKey,
  parseNote,
  signNote,
  type CertificateTransparency,
  type HistoryAnswer,
  type LogKeyDocument,
  type LogKeyStatement,
  type LogLeaf,
} from '../../tlog/index.js';
import { leafOfCertificate } from '../../tlog/index.js';
import { rootFromLeafHashes } from '../../attest/index.js';
import type { Certificate } from '../certificate.js';
import { FORGER_PUBLIC_KEY, signReport, VECTOR_PUBLIC_KEY, type Signer } from './forge.js';

export const FIXTURE_ORIGIN = 'ephemera.log/test-fixture';
const LOG_SEED = sha256Bytes(utf8ToBytes('ephemera test log key'));

/** A synthetic leaf: certificate id from `n`, fingerprint from `run` (same `run`, same fingerprint). */
export function syntheticLeaf(n: number, run: string, prev: number | null): LogLeaf {
  const h = (s: string) => `sha256:${bytesToHex(sha256Bytes(utf8ToBytes(s)))}` as Hash;
  return {
    type: 'ephemera.log-leaf',
    v: 1,
    certificate_id: `cert_01JD7ZX3Q4M5N6P7R8S9${crockford(n, 6)}`,
    status: 'completed',
    fingerprint: h(`fingerprint ${run}`),
    dataset_hash: h(`dataset ${run}`),
    sandbox_hash: h(`sandbox ${run}`),
    result_hash: h(`result ${run}`),
    result_sealed: false,
    certificate_hash: h(`certificate ${n}`),
    sealed_at: new Date(Date.parse('2026-12-01T00:00:00Z') + n * 1000).toISOString(),
    prev,
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const crockford = (n: number, digits: number) => Array.from({ length: digits }, (_, i) => CROCKFORD[Math.floor(n / 32 ** (digits - 1 - i)) % 32]).join('');

/** A log of two computations: fingerprint `a` runs at 0, 2, 3, 5; `b` at 1, 4; each `prev` right. */
export const honestLeaves = (): LogLeaf[] => [
  syntheticLeaf(0, 'a', null),
  syntheticLeaf(1, 'b', null),
  syntheticLeaf(2, 'a', 0),
  syntheticLeaf(3, 'a', 2),
  syntheticLeaf(4, 'b', 1),
  syntheticLeaf(5, 'a', 3),
];

export interface FixtureLog {
  origin: string;
  vkey: string;
  logKey: LogKeyDocument;
  leaves: LogLeaf[];
  /** Tiles and entry bundles by path (what `<prefix>/<path>` serves). */
  files: Map<string, Uint8Array>;
  /** The signed checkpoint of the whole log, with the witnesses' cosignatures if any. */
  checkpoint: string;
  root: Uint8Array;
  tree: TiledTree;
  witnesses: { vkey: string; skey: string }[];
  transparencyOf(index: number): Promise<CertificateTransparency>;
  /** The same, its proof computed from all the leaves (synchronous: for the conformance vectors). */
  transparencyNow(index: number): CertificateTransparency;
  historyOf(fingerprint: string): Promise<HistoryAnswer>;
  /** A checkpoint signed by the log key for any size and root (to forge split views). */
  signCheckpoint(size: number, root: Uint8Array): string;
}

/**
 * Appends `leaves` (prev as given: the fixture does not fix them, so a test can break the chain),
 * signs the checkpoint, and cosigns it by `witnesses` fresh witness keys.
 */
export function fixtureLogSync(
  leaves: LogLeaf[],
  /** `attestedBy`: whose simulated key attests the log key's statement (default the vector key, which the suite pins). */
  options: { witnesses?: number; origin?: string; attestedBy?: Extract<Signer, 'vector' | 'forger'> } = {},
): FixtureLog {
  const origin = options.origin ?? FIXTURE_ORIGIN;
  const { skey, vkey } = generateNoteKey(origin, LOG_SEED);
  const signer = parseNoteSignerKey(skey);
  const statement: LogKeyStatement = {
    type: 'ephemera.log-key-statement',
    v: 1,
    origin,
    vkey,
    tee: { type: 'simulated', public_key: options.attestedBy === 'forger' ? FORGER_PUBLIC_KEY : VECTOR_PUBLIC_KEY, hardware_backed: false },
    issued_at: '2026-12-01T00:00:00.000Z',
  };
  const statementHash = logKeyStatementHash(statement);
  const reportData = logKeyReportData(statementHash);
  const logKey: LogKeyDocument = {
    statement,
    statement_hash: statementHash,
    report_data: bytesToHex(reportData),
    attestation: { type: 'simulated', ...signReport(reportData, options.attestedBy ?? 'vector') },
  };

  const builder = new TileBuilder();
  const files = new Map<string, Uint8Array>();
  const entries = leaves.map(encodeLeaf);
  const leafHashes = entries.map((entry) => sha256Bytes(new Uint8Array([0]), entry));
  for (const tile of builder.append(leafHashes)) files.set(formatTilePath(tile), tile.data);
  for (let start = 0; start < entries.length; start += 256) {
    const bundle = entries.slice(start, start + 256);
    files.set(formatEntryBundlePath({ index: start / 256, width: bundle.length }), encodeEntryBundle(bundle));
  }
  const root = builder.root();
  const signCheckpoint = (size: number, r: Uint8Array) => signNote({ text: formatCheckpoint({ origin, size, rootHash: r, extensions: [] }) }, [signer]);
  let checkpoint = signCheckpoint(leaves.length, root);
  // Fixed seeds: the conformance vectors are reproducible.
  const witnesses = Array.from({ length: options.witnesses ?? 0 }, (_, i) =>
    generateCosignerKey(`witness-${i}.example`, sha256Bytes(utf8ToBytes(`ephemera test witness ${i}`))),
  );
  if (witnesses.length > 0) {
    const cosigners = witnesses.map((w) => parseCosignerSignerKey(w.skey, () => Date.parse('2026-12-01T00:00:10Z')));
    checkpoint = signNote(parseNote(checkpoint), cosigners);
  }
  const tree = new TiledTree({ size: leaves.length, root }, async (path) => {
    const data = files.get(path);
    if (!data) throw new Error(`no tile ${path}`);
    return data;
  });
  const hex = (proof: Uint8Array[]) => proof.map(bytesToHex);
  const transparencyNow = (index: number): CertificateTransparency => ({
    leaf_index: index,
    leaf: leaves[index]!,
    checkpoint,
    inclusion_proof: hex(merklePath(leafHashes, index)),
    log_key: logKey,
  });
  return {
    origin,
    vkey,
    logKey,
    leaves,
    files,
    checkpoint,
    root,
    tree,
    witnesses,
    signCheckpoint,
    transparencyNow,
    async transparencyOf(index) {
      return { leaf_index: index, leaf: leaves[index]!, checkpoint, inclusion_proof: hex(await tree.inclusionProof(index)), log_key: logKey };
    },
    async historyOf(fingerprint) {
      const chain: HistoryAnswer['leaves'] = [];
      for (let i = leaves.length - 1; i >= 0; i--)
        if (leaves[i]!.fingerprint === fingerprint) chain.push({ leaf_index: i, leaf: leaves[i]!, inclusion_proof: hex(await tree.inclusionProof(i)) });
      return { fingerprint, checkpoint, log_key: logKey, leaves: chain };
    },
  };
}

/** fixtureLogSync, as a promise (the shape the history tests use). */
export async function fixtureLog(leaves: LogLeaf[], options: Parameters<typeof fixtureLogSync>[1] = {}): Promise<FixtureLog> {
  return fixtureLogSync(leaves, options);
}

/**
 * A certificate as the log serves it once integrated: its leaf at index `before` among synthetic leaves, and its
 * `transparency` member from the fixture log's checkpoint.
 */
export async function loggedCertificate(
  certificate: Certificate,
  options: Parameters<typeof fixtureLog>[1] & { before?: number; after?: number } = {},
): Promise<{ certificate: Certificate; log: FixtureLog; index: number }> {
  const index = options.before ?? 5;
  const leaves = Array.from({ length: index }, (_, i) => syntheticLeaf(i, `other ${i % 3}`, i >= 3 ? i - 3 : null));
  leaves.push(leafOfCertificate(certificate, null));
  for (let i = 0; i < (options.after ?? 2); i++) leaves.push(syntheticLeaf(index + 1 + i, 'later', null));
  const log = fixtureLogSync(leaves, options);
  return { certificate: { ...certificate, transparency: await log.transparencyOf(index) }, log, index };
}

/** RFC 6962 §2.1.1 PATH(m, D[0:n]) from all the leaf hashes (small logs only). */
function merklePath(hashes: readonly Uint8Array[], m: number): Uint8Array[] {
  if (hashes.length <= 1) return [];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return m < k
    ? [...merklePath(hashes.slice(0, k), m), rootFromLeafHashes(hashes.slice(k))]
    : [...merklePath(hashes.slice(k), m - k), rootFromLeafHashes(hashes.slice(0, k))];
}
