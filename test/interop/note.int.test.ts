/**
 * Our signed notes, keys and checkpoints (src/tlog) against Go's reference
 * code, golang.org/x/mod/sumdb/note and sumdb/tlog (test/interop/go/note):
 * keys generated and notes signed by either side are read and verified by the
 * other, key hashes agree, and every tampered note either refuses is refused
 * by both (ours may refuse more: docs/transparency.md §1 lists where).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isEphemeraError } from '../../src/errors.js';
import {
  formatCheckpoint,
  formatVerifierKey,
  generateNoteKey,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseNote,
  parseNoteSignerKey,
  parseNoteVerifierKey,
  SIGNATURE_TYPE,
  signNote,
} from '../../src/tlog/index.js';
import { buildGoProgram } from './go-program.js';

interface GoRequest {
  op: 'generate' | 'vkey' | 'verifier' | 'signer' | 'sign' | 'open' | 'formatTree' | 'parseTree';
  name?: string;
  skeys?: string[];
  vkeys?: string[];
  text?: string;
  msg?: string;
  pub?: string;
  n?: number;
  hash?: string;
}
interface GoAnswer {
  error?: string;
  skey?: string;
  vkey?: string;
  note?: string;
  text?: string;
  sigs?: { name: string; hash: number }[];
  unverified?: { name: string; hash: number }[];
  n?: number;
  hash?: string;
}

let binary: string;
function go(requests: GoRequest[]): GoAnswer[] {
  return JSON.parse(execFileSync(binary, { input: JSON.stringify(requests), maxBuffer: 64 << 20 }).toString('utf8')) as GoAnswer[];
}
const go1 = (request: GoRequest) => go([request])[0]!;

function oursOpen(msg: string | Uint8Array, vkeys: string[]): { text?: string; error?: string } {
  try {
    return { text: openNote(msg, vkeys.map(parseNoteVerifierKey)).text };
  } catch (error) {
    if (isEphemeraError(error)) return { error: error.code };
    throw error;
  }
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const NAMES = ['example.com/log', 'sum.golang.org', 'héllo.example/ü', 'a', 'x.example/with=equals/and~tilde'];
const TEXTS = ['hello\n', 'example.com/log\n42\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n', 'a\n\nb\n', '\n', 'unicode é ✓ 𝄞\n'];

beforeAll(() => {
  binary = buildGoProgram(join(import.meta.dirname, 'go/note'));
}, 120_000);

describe('signed notes against golang.org/x/mod/sumdb/note', () => {
  it('reads keys Go generates, and verifies notes Go signs with them', () => {
    const keys = go(NAMES.map((name) => ({ op: 'generate', name })));
    for (const [i, key] of keys.entries()) {
      expect(key.error).toBeUndefined();
      const signer = parseNoteSignerKey(key.skey!);
      expect(signer.vkey).toBe(key.vkey);
      expect(signer.name).toBe(NAMES[i]);
      const signed = go1({ op: 'sign', skeys: [key.skey!], text: TEXTS[i]! }).note!;
      expect(openNote(signed, [parseNoteVerifierKey(key.vkey!)]).text).toBe(TEXTS[i]);
      // Ed25519 is deterministic (RFC 8032): we sign the same bytes with Go's key.
      expect(signNote({ text: TEXTS[i]! }, [signer])).toBe(signed);
    }
  });

  it('writes keys and notes Go reads: Go accepts our skey and vkey, and note.Open verifies our signature', () => {
    const ours = NAMES.map((name) => generateNoteKey(name));
    const checks = go(ours.flatMap((k) => [{ op: 'verifier', vkeys: [k.vkey] } as GoRequest, { op: 'signer', skeys: [k.skey] } as GoRequest]));
    expect(checks.every((a) => a.error === undefined)).toBe(true);
    const opened = go(ours.map((k, i) => ({ op: 'open', msg: signNote({ text: TEXTS[i]! }, [parseNoteSignerKey(k.skey)]), vkeys: [k.vkey] }) as GoRequest));
    for (const [i, answer] of opened.entries()) {
      expect(answer.error).toBeUndefined();
      expect(answer.text).toBe(TEXTS[i]);
      expect(answer.sigs).toEqual([{ name: NAMES[i], hash: parseNoteVerifierKey(ours[i]!.vkey).keyId }]);
    }
  });

  it('computes the key hash as Go does, for any name and public key', () => {
    const cases = fc.sample(
      fc.tuple(
        fc
          .string({ minLength: 1, maxLength: 24 })
          .filter((s) => !/[\s+\u0000-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ud800-\udfff]/.test(s)),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
      ),
      200,
    );
    const theirs = go(cases.map(([name, pub]) => ({ op: 'vkey', name, pub: b64(pub) })));
    for (const [i, [name, pub]] of cases.entries()) expect(formatVerifierKey(name, SIGNATURE_TYPE.ed25519, pub), name).toBe(theirs[i]!.vkey);
  });

  it('adds signatures as Go does: to a note the other side signed, both verify all of them', () => {
    const goKey = go1({ op: 'generate', name: 'go.example/k' });
    const ourKey = generateNoteKey('ours.example/k');
    const text = TEXTS[1]!;
    const goFirst = go1({ op: 'sign', skeys: [goKey.skey!], text }).note!;
    const both = signNote({ text, signatures: parseNote(goFirst).signatures }, [parseNoteSignerKey(ourKey.skey)]);
    const oursFirst = signNote({ text }, [parseNoteSignerKey(ourKey.skey)]);
    const both2 = go1({ op: 'sign', skeys: [goKey.skey!], text, msg: oursFirst }).note!;
    // the same order as Go: existing signatures first, then the new ones (Ed25519 is deterministic, so byte for byte)
    expect(signNote({ text, signatures: parseNote(oursFirst).signatures }, [parseNoteSignerKey(goKey.skey!)])).toBe(both2);
    expect(go1({ op: 'sign', skeys: [ourKey.skey], text, msg: goFirst }).note).toBe(both);
    const answer = go1({ op: 'open', msg: both, vkeys: [goKey.vkey!, ourKey.vkey] });
    expect(answer.sigs?.map((s) => s.name)).toEqual(['go.example/k', 'ours.example/k']);
    expect(openNote(both, [parseNoteVerifierKey(goKey.vkey!), parseNoteVerifierKey(ourKey.vkey)]).verified).toHaveLength(2);
    // only one known: the other is kept unverified by both
    expect(go1({ op: 'open', msg: both, vkeys: [ourKey.vkey] }).unverified).toEqual([{ name: 'go.example/k', hash: parseNoteVerifierKey(goKey.vkey!).keyId }]);
    expect(openNote(both, [parseNoteVerifierKey(ourKey.vkey)]).unverified.map((s) => s.name)).toEqual(['go.example/k']);
  });

  it('refuses what Go refuses: malformed and tampered notes', () => {
    const key = generateNoteKey('example.com/log', new Uint8Array(32).fill(1));
    const other = generateNoteKey('example.com/other', new Uint8Array(32).fill(2));
    const good = signNote({ text: TEXTS[1]! }, [parseNoteSignerKey(key.skey)]);
    const sigLine = good.slice(good.indexOf('— '));
    const b64sig = sigLine.slice(sigLine.lastIndexOf(' ') + 1, -1);
    const tampered = [
      good.replace('\n42\n', '\n43\n'),
      good.replace('example.com/log\n42', 'example.com/loh\n42'),
      good.slice(0, -1),
      good.replace('\n\n', '\n'),
      `${good.slice(0, good.indexOf('\n\n') + 2)}`,
      good.replace('— ', '-- '),
      good.replace('— ', '—'),
      good.replace('log ', 'log  '),
      good.replace(b64sig, b64sig.slice(0, -4)),
      good.replace(b64sig, `${b64sig}x`),
      `hello\n\n— example.com/log ${b64(new Uint8Array(4))}\n`,
      good.replace('hello', 'hel\rlo').replace('42', '4\r2'),
      good.replace('42', '4\t2'),
      good.replace('example.com/log ', 'example.com+log '),
      `${good}\n`,
      `${good}trailing`,
      `${TEXTS[1]}\n${sigLine.repeat(101)}`,
    ];
    const theirs = go(tampered.map((msg) => ({ op: 'open', msg, vkeys: [key.vkey] })));
    for (const [i, msg] of tampered.entries()) {
      expect(theirs[i]!.error, JSON.stringify(msg)).toBeDefined();
      expect(oursOpen(msg, [key.vkey]).error, JSON.stringify(msg)).toBeDefined();
    }
    // signed by a key neither knows: both say unverified
    expect(go1({ op: 'open', msg: good, vkeys: [other.vkey] }).error).toBe('unverified');
    expect(oursOpen(good, [other.vkey]).error).toBe('TLOG_NOTE_UNVERIFIED');
    expect(go1({ op: 'open', msg: good.replace('\n42\n', '\n43\n'), vkeys: [key.vkey] }).error).toBe('invalid signature');
    expect(oursOpen(good.replace('\n42\n', '\n43\n'), [key.vkey]).error).toBe('TLOG_NOTE_SIGNATURE_INVALID');
  });

  it('on any byte change: what Go refuses we refuse, and what we accept Go accepts with the same text', () => {
    const key = generateNoteKey('example.com/log', new Uint8Array(32).fill(1));
    const other = generateNoteKey('example.com/other', new Uint8Array(32).fill(3));
    const good = Buffer.from(signNote({ text: TEXTS[1]! }, [parseNoteSignerKey(key.skey), parseNoteSignerKey(other.skey)]));
    const changes = fc.sample(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), 300);
    const msgs = changes.map(([i, x]) => {
      const changed = Buffer.from(good);
      changed[i]! ^= x;
      return changed;
    });
    // Go reads the message as bytes; JSON carries a string, so only changes that stay valid UTF-8 go to Go (the others both refuse: checked by ours here).
    const valid = msgs.filter((m) => Buffer.from(m.toString('utf8'), 'utf8').equals(m));
    for (const m of msgs.filter((m) => !valid.includes(m))) expect(oursOpen(new Uint8Array(m), [key.vkey]).error).toBe('TLOG_NOTE_MALFORMED');
    const theirs = go(valid.map((m) => ({ op: 'open', msg: m.toString('utf8'), vkeys: [key.vkey] })));
    for (const [i, m] of valid.entries()) {
      const ours = oursOpen(new Uint8Array(m), [key.vkey]);
      if (theirs[i]!.error !== undefined) expect(ours.error, m.toString('utf8')).toBeDefined();
      if (ours.error === undefined) expect(theirs[i]!.text).toBe(ours.text);
    }
  });
});

describe('checkpoints against golang.org/x/mod/sumdb/tlog', () => {
  const ORIGIN = 'go.sum database tree';

  it('reads what tlog.FormatTree writes, and tlog.ParseTree reads what we write', () => {
    const trees = fc.sample(fc.tuple(fc.maxSafeNat(), fc.uint8Array({ minLength: 32, maxLength: 32 })), 100);
    const formatted = go(trees.map(([n, hash]) => ({ op: 'formatTree', n, hash: b64(hash) })));
    const ours = trees.map(([size, rootHash]) => formatCheckpoint({ origin: ORIGIN, size, rootHash, extensions: [] }));
    for (const [i, [n, hash]] of trees.entries()) {
      expect(ours[i]).toBe(formatted[i]!.text);
      const c = parseCheckpoint(formatted[i]!.text!);
      expect([c.origin, c.size, b64(c.rootHash)]).toEqual([ORIGIN, n, b64(hash)]);
    }
    const parsed = go(ours.map((text) => ({ op: 'parseTree', text })));
    for (const [i, [n, hash]] of trees.entries()) expect([parsed[i]!.n ?? 0, parsed[i]!.hash]).toEqual([n, b64(hash)]);
  });

  it('refuses every tree text tlog.ParseTree refuses', () => {
    const root = b64(new Uint8Array(32).fill(7));
    const texts = [
      `${ORIGIN}\n01\n${root}\n`,
      `${ORIGIN}\n-1\n${root}\n`,
      `${ORIGIN}\n+1\n${root}\n`,
      `${ORIGIN}\n1\n${root.slice(0, -1)}\n`,
      `${ORIGIN}\n1\n${b64(new Uint8Array(31))}\n`,
      `${ORIGIN}\n1\n${root}`,
      `${ORIGIN}\n\n${root}\n`,
      `${ORIGIN}\n9223372036854775808\n${root}\n`,
      `${ORIGIN}\n1 \n${root}\n`,
    ];
    const theirs = go(texts.map((text) => ({ op: 'parseTree', text })));
    for (const [i, text] of texts.entries()) {
      expect(theirs[i]!.error, text).toBeDefined();
      expect(() => parseCheckpoint(text), text).toThrow();
    }
  });

  it('verifies a checkpoint Go signed', () => {
    const key = go1({ op: 'generate', name: 'example.com/log' });
    const text = go1({ op: 'formatTree', n: 12345, hash: b64(ed25519.utils.randomPrivateKey()) }).text!;
    const signed = go1({ op: 'sign', skeys: [key.skey!], text }).note!;
    const { checkpoint, note } = openCheckpoint(signed, [parseNoteVerifierKey(key.vkey!)]);
    expect([checkpoint.origin, checkpoint.size, note.verified[0]!.name]).toEqual([ORIGIN, 12345, 'example.com/log']);
  });
});
