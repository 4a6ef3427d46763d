/**
 * The executor's sealing keys (docs/sealed.md §2): a fresh HPKE key pair at
 * start and every rotation, its statement bound into an attestation, the
 * previous keys kept until their not_after so requests under way still open.
 * Each key remembers the encapsulated keys it has opened (replays refused);
 * when that set is full the key is retired early and a new one made current.
 *
 * SECURITY: private keys are CryptoKey objects in this process's memory only:
 * never exported, logged, put in an event or an error. A retired key is
 * dropped (only its statement hash is kept, to answer "expired" rather than
 * "unknown").
 */
import { createHash } from 'node:crypto';
import { EphemeraError } from '../../errors.js';
import { bytesToHex, type Hash, type SealSuite } from '../../events/index.js';
import type { Attestor } from '../../attest/index.js';
import { generateSealKeyPair, keyReportData, keyStatementHash, type KeyDocument, type KeyStatement, type SealCrypto } from '../../seal/index.js';

/** One key this executor holds. */
export interface HeldKey {
  readonly document: KeyDocument;
  readonly statementHash: Hash;
  readonly suite: SealSuite;
  readonly keyPair: CryptoKeyPair;
  readonly notAfterMs: number;
  /** The `enc` (hex) of every request this key opened. */
  readonly seen: Set<string>;
}

export interface KeyRingOptions {
  attestor: Pick<Attestor, 'describe' | 'attest'>;
  /** The node id the statements name. */
  node: string;
  suite: SealSuite;
  rotateMs: number;
  graceMs: number;
  clock?: () => Date;
  /** Requests one key opens before it is retired early (its replay set is bounded). */
  replayMax?: number;
  crypto?: SealCrypto;
  /** Rotate on a timer (off in tests that rotate by hand). Default true. */
  timer?: boolean;
}

/** Enough for 27 requests a second through a whole hour's key; the set costs about 200 bytes an entry. */
export const DEFAULT_REPLAY_MAX = 100_000;
/** Statement hashes of expired keys remembered (to answer SEALED_KEY_EXPIRED, not SEALED_KEY_UNKNOWN). */
const EXPIRED_REMEMBERED = 1000;

export class KeyRing {
  private currentKey: HeldKey | null = null;
  private readonly held = new Map<Hash, HeldKey>();
  private readonly expired = new Set<Hash>();
  private making: Promise<HeldKey> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly clock: () => Date;
  private readonly replayMax: number;

  constructor(private readonly options: KeyRingOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.replayMax = options.replayMax ?? DEFAULT_REPLAY_MAX;
  }

  /**
   * Makes the first key and starts the rotation timer. A failing attestor does not fail the start: plain requests
   * need no key, and the key document route tries again when asked (ATTEST_UNAVAILABLE until one is made).
   */
  async start(): Promise<void> {
    await this.rotate().catch(() => undefined);
    if (this.options.timer !== false && this.timer === null) {
      this.timer = setInterval(() => void this.rotate().catch(() => undefined), this.options.rotateMs);
      this.timer.unref();
    }
  }

  /** The current key's document; makes a key first when there is none, or the current one expired. */
  async document(): Promise<KeyDocument> {
    const current = this.currentKey;
    if (current && this.clock().getTime() < current.notAfterMs) return current.document;
    try {
      return (await this.rotate()).document;
    } catch (cause) {
      throw new EphemeraError('ATTEST_UNAVAILABLE', 'this server has no attested sealing key (its attestor did not answer); plain requests are still served', {
        cause,
      });
    }
  }

  /** A fresh key made current (single flight: concurrent callers share one). The previous keys stay until their not_after. */
  rotate(): Promise<HeldKey> {
    this.making ??= this.makeKey().finally(() => {
      this.making = null;
    });
    return this.making;
  }

  /** The key a sealed request names (docs/sealed.md §3 step 2), or the refusal. */
  lookup(statementHash: string, suite: string): HeldKey {
    this.prune();
    const key = this.held.get(statementHash as Hash);
    if (!key) {
      if (this.expired.has(statementHash as Hash)) {
        throw new EphemeraError('SEALED_KEY_EXPIRED', 'the key statement this request was sealed to is past its not_after: fetch the key document again');
      }
      throw new EphemeraError('SEALED_KEY_UNKNOWN', 'this server holds no key statement with that hash: fetch its key document again, from this node');
    }
    if (key.suite !== suite) throw new EphemeraError('SEALED_SUITE_MISMATCH', "the request's suite is not its key statement's");
    return key;
  }

  /** Refuses an `enc` this key already opened (checked before opening too, so a replay costs no decryption). */
  refuseReplay(key: HeldKey, enc: string): void {
    if (key.seen.has(enc)) throw new EphemeraError('SEALED_REPLAY', 'this sealed request was already submitted');
  }

  /** Records an opened request's `enc`; refuses a replay that raced this one. A full set retires the key. */
  remember(key: HeldKey, enc: string): void {
    this.refuseReplay(key, enc);
    key.seen.add(enc);
    if (key.seen.size >= this.replayMax) this.retire(key);
  }

  /** Stops the rotation timer and drops every key. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const key of [...this.held.values()]) this.retire(key);
  }

  private async makeKey(): Promise<HeldKey> {
    const { suite, attestor } = this.options;
    const { keyPair, publicKeyHex } = await generateSealKeyPair(suite, this.options.crypto);
    const notBefore = this.clock();
    const statement: KeyStatement = {
      type: 'ephemera.key-statement',
      v: 1,
      suite,
      public_key: publicKeyHex,
      key_id: `sha256:${createHash('sha256').update(Buffer.from(publicKeyHex, 'hex')).digest('hex')}`,
      node: this.options.node,
      tee: await attestor.describe(),
      not_before: notBefore.toISOString(),
      not_after: new Date(notBefore.getTime() + this.options.rotateMs + this.options.graceMs).toISOString(),
    };
    const statementHash = keyStatementHash(statement);
    const reportData = keyReportData(statementHash);
    const attestation = await attestor.attest(reportData);
    const key: HeldKey = {
      document: { statement, statement_hash: statementHash, report_data: bytesToHex(reportData), attestation },
      statementHash,
      suite,
      keyPair,
      notAfterMs: Date.parse(statement.not_after),
      seen: new Set(),
    };
    this.held.set(statementHash, key);
    this.currentKey = key;
    this.prune();
    return key;
  }

  /** Keys past their not_after leave the ring; their hashes are remembered (bounded) to answer "expired". */
  private prune(): void {
    const now = this.clock().getTime();
    for (const key of [...this.held.values()]) {
      if (now < key.notAfterMs) continue;
      this.retire(key);
      this.expired.add(key.statementHash);
      if (this.expired.size > EXPIRED_REMEMBERED) this.expired.delete(this.expired.values().next().value!);
    }
  }

  private retire(key: HeldKey): void {
    // The replay set is kept, not cleared: a request still being opened with this key checks it when it is
    // remembered, and a copy that passed the check before opening must still find the first there. The set goes
    // with the key once no request holds it.
    this.held.delete(key.statementHash);
    if (this.currentKey === key) this.currentKey = null;
  }
}
