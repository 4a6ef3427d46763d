/**
 * `ephemera prove` and `ephemera verify-rows` as real child processes (docs/row-proofs.md §9), on a
 * certificate that commits the rows of a real 10,000-row CSV (rows/testing/row-certificate.ts): three
 * records proven to a verifier that holds only the certificate and the proof; every tampering of the
 * proof refused with its code; the secret kept off the command line; hostile records printed inert.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_REGISTRY, type ErrorCode } from '../error-codes.js';
import { splitRecords } from '../rows/index.js';
import { HOSTILE_ROWS, PROOF_TAMPERINGS, TEST_SECRET, rowCertificate, tenThousandRowCsv } from '../rows/testing/row-certificate.js';
import { VECTOR_PUBLIC_KEY } from '../verify/testing/forge.js';
import { runCli } from './testing/run-cli.js';

const PROVEN = [0, HOSTILE_ROWS.markup, HOSTILE_ROWS.fakeLine];

describe('ephemera prove / verify-rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-rows-cli-'));
  const file = (name: string) => join(dir, name);
  const csv = tenThousandRowCsv();
  const records = splitRecords('csv', csv);
  const secretHex = Buffer.from(TEST_SECRET).toString('hex');
  const cli = (args: string[], input?: string) =>
    runCli([...args, '--data-dir', file('data')], {
      env: { ...process.env, XDG_CONFIG_HOME: file('config'), EPHEMERA_TRUSTED_KEYS: '' },
      ...(input === undefined ? {} : { input }),
    });
  const verifyRows = (proof: string, certificate = file('cert.json')) => cli(['verify-rows', certificate, proof, '--trust-key', VECTOR_PUBLIC_KEY]);
  const errorOf = (stdout: string) => (JSON.parse(stdout) as { error: { code: string; message: string } }).error;
  let proofText: string;

  beforeAll(async () => {
    writeFileSync(file('data.csv'), csv);
    writeFileSync(file('secret'), `${secretHex}\n`, { mode: 0o600 });
    writeFileSync(file('cert.json'), rowCertificate({ dataset: csv }).text);
    const proved = await cli([
      'prove',
      '--certificate',
      file('cert.json'),
      '--dataset',
      file('data.csv'),
      '--secret',
      file('secret'),
      '--rows',
      PROVEN.join(','),
      '--out',
      file('proof.json'),
    ]);
    expect(proved.stderr).toContain(`proved 3 records (0, 17, 42) of`);
    expect(proved.stderr).not.toContain('readable by other users');
    expect(proved.code).toBe(0);
    proofText = readFileSync(file('proof.json'), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('proves three records of the 10,000-row CSV to a verifier that holds only the certificate and the proof', async () => {
    expect(statSync(file('proof.json')).mode & 0o777).toBe(0o600);
    expect(proofText).not.toContain(secretHex);
    const { code, stdout } = await verifyRows(file('proof.json'));
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^certificate cert_[0-9A-Z]{26}: VALID, TRUSTED/);
    expect(lines).toContain("proven: 3 records of the run's input (indexes from 0; control characters shown escaped)");
    expect(lines.slice(-3)).toEqual([
      '  record 0: id,name,email,amount,note',
      '  record 17: 17,person 17,p17@example.org,629.17,"<b>bold</b> \\u{001b}[2Jcleared, ""quoted"""',
      '  record 42: 42,person 42,p42@example.org,554.42,"first line\\n  99  forged,record"',
    ]);
    // Hostile bytes never reach the terminal raw, and nothing else of the dataset is printed.
    expect(stdout).not.toContain('\u001b');
    expect(stdout).not.toContain('person 18,');
  });

  it('--json gives each proven record exactly, as the dataset holds it', async () => {
    const { code, stdout } = await cli(['verify-rows', file('cert.json'), file('proof.json'), '--trust-key', VECTOR_PUBLIC_KEY, '--json']);
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as {
      verification: { status: string };
      rows: { count: number };
      proven: { index: number; record_base64: string; record: string }[];
    };
    expect(out.verification.status).toBe('trusted');
    expect(out.rows.count).toBe(10_001);
    expect(out.proven.map((p) => p.index)).toEqual(PROVEN);
    for (const p of out.proven) {
      expect(Buffer.from(p.record_base64, 'base64').equals(Buffer.from(records[p.index]!))).toBe(true);
      expect(p.record).toBe(Buffer.from(records[p.index]!).toString('utf8'));
    }
  });

  it('proves with the secret on stdin, and exits 4 when the signer is not trusted (the records still shown)', async () => {
    const proved = await cli(
      ['prove', '--certificate', file('cert.json'), '--dataset', file('data.csv'), '--secret', '-', '--rows', '9999-10000'],
      `${secretHex}\n`,
    );
    expect(proved.code).toBe(0);
    writeFileSync(file('tail.json'), proved.stdout);
    const untrusted = await cli(['verify-rows', file('cert.json'), file('tail.json')]);
    expect(untrusted.code).toBe(4);
    expect(untrusted.stdout).toContain('VALID, NOT TRUSTED');
    expect(untrusted.stdout).toContain('  record 10000: 10000,person 10000,');
    expect(untrusted.stderr).toContain('whose signer you do not trust');
  });

  it('--server: fetches the certificate by its id and verifies it here; an id the server does not have is CERTIFICATE_NOT_FOUND', async () => {
    const text = readFileSync(file('cert.json'), 'utf8');
    const id = (JSON.parse(text) as { certificate_id: string }).certificate_id;
    const server = Fastify();
    server.get<{ Params: { id: string } }>('/certificate/:id', (req, reply) =>
      req.params.id === id ? reply.type('application/json').send(text) : reply.status(404).send({ error: { code: 'CERTIFICATE_NOT_FOUND' } }),
    );
    const url = await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const proved = await cli(['prove', '--certificate', id, '--server', url, '--dataset', file('data.csv'), '--secret', file('secret'), '--rows', '5']);
      expect(proved.code).toBe(0);
      writeFileSync(file('five.json'), proved.stdout);
      const checked = await cli(['verify-rows', id, file('five.json'), '--server', url, '--trust-key', VECTOR_PUBLIC_KEY]);
      expect(checked.code).toBe(0);
      expect(checked.stdout).toContain('  record 5: 5,person 5,p5@example.org,185.05,n5\n');
      const missing = await cli(['verify-rows', `cert_${'0'.repeat(26)}`, file('five.json'), '--server', url, '--json']);
      expect(errorOf(missing.stdout).code).toBe('CERTIFICATE_NOT_FOUND');
    } finally {
      await server.close();
    }
  });

  describe('refuses every tampering of the proof with its code', () => {
    for (const tampering of PROOF_TAMPERINGS)
      it(`${tampering.name}: ${tampering.code}`, async () => {
        const path = file(`tampered-${tampering.name.replaceAll(' ', '-')}.json`);
        writeFileSync(path, tampering.edit(JSON.parse(proofText)));
        const { code, stdout, stderr } = await cli(['verify-rows', file('cert.json'), path, '--trust-key', VECTOR_PUBLIC_KEY, '--json']);
        expect(errorOf(stdout).code).toBe(tampering.code);
        expect(code).toBe(ERROR_REGISTRY[tampering.code as ErrorCode].exit);
        expect(code).toBe(1);
        expect(stdout + stderr).not.toContain('person 17');
      });

    it('a proof of another certificate (same dataset, another run and secret): ROWS_PROOF_WRONG_CERTIFICATE', async () => {
      writeFileSync(file('other.json'), rowCertificate({ dataset: csv, secret: new Uint8Array(32).fill(9) }).text);
      const { code, stdout } = await cli(['verify-rows', file('other.json'), file('proof.json'), '--trust-key', VECTOR_PUBLIC_KEY, '--json']);
      expect(errorOf(stdout).code).toBe('ROWS_PROOF_WRONG_CERTIFICATE');
      expect(code).toBe(1);
    });

    it('a certificate whose row root was edited: invalid, exit 1, no record checked or shown', async () => {
      const tampered = readFileSync(file('cert.json'), 'utf8').replace(/"root": "[0-9a-f]{64}"/, `"root": "${'0'.repeat(64)}"`);
      writeFileSync(file('forged.json'), tampered);
      const { code, stdout, stderr } = await verifyRows(file('proof.json'), file('forged.json'));
      expect(code).toBe(1);
      expect(stdout).toContain('INVALID');
      expect(stdout).not.toContain('record 17');
      expect(stderr).toContain('nothing checked: the certificate is invalid');
    });
  });

  it("shows a sort key that holds terminal controls (a certificate's own bytes) escaped, and proves a key absent", async () => {
    const hostile = 'id\u001b]0;PWNED\u0007\u001b[2J';
    const sorted = new TextEncoder().encode(`${hostile},name\nb,2\nd,4\n`);
    writeFileSync(file('sorted.csv'), sorted);
    writeFileSync(file('sorted.json'), rowCertificate({ dataset: sorted, sortedBy: hostile }).text);
    const proved = await cli(['prove', '--certificate', file('sorted.json'), '--dataset', file('sorted.csv'), '--secret', file('secret'), '--absent', 'c']);
    expect(proved.code, proved.stderr).toBe(0);
    writeFileSync(file('sorted-proof.json'), proved.stdout);
    const { code, stdout } = await cli(['verify-rows', file('sorted.json'), file('sorted-proof.json'), '--trust-key', VECTOR_PUBLIC_KEY]);
    expect(code).toBe(0);
    expect(stdout).toContain('  key c');
    expect(stdout).toContain('sorted by id\\u{001b}]0;PWNED\\u{0007}\\u{001b}[2J');
    expect(stdout).not.toContain('\u001b');
    expect(stdout).not.toContain('\u0007');
  });

  describe('prove refuses', () => {
    const prove = (over: Record<string, string>, input?: string) => {
      const args = { certificate: file('cert.json'), dataset: file('data.csv'), secret: file('secret'), rows: '17', ...over };
      return cli(['prove', ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, v]), '--json'], input);
    };

    it('a secret on the command line, without echoing it', async () => {
      const { code, stdout, stderr } = await prove({ secret: secretHex });
      expect(errorOf(stdout).code).toBe('ROWS_SECRET_ON_COMMAND_LINE');
      expect(code).toBe(2);
      expect(stdout + stderr).not.toContain(secretHex);
    });

    it('a wrong secret, and a wrong dataset, saying which (ROWS_DATASET_MISMATCH)', async () => {
      writeFileSync(file('wrong-secret'), `${'ab'.repeat(32)}\n`, { mode: 0o644 });
      const secret = await prove({ secret: file('wrong-secret') });
      expect(errorOf(secret.stdout)).toMatchObject({ code: 'ROWS_DATASET_MISMATCH', message: expect.stringContaining('wrong secret') });
      expect(secret.stderr).toContain('is readable by other users (mode 644)');
      expect(secret.code).toBe(2);
      const edited = Buffer.from(csv);
      edited[40] ^= 1;
      writeFileSync(file('edited.csv'), edited);
      const dataset = await prove({ dataset: file('edited.csv') });
      expect(errorOf(dataset.stdout)).toMatchObject({ code: 'ROWS_DATASET_MISMATCH', message: expect.stringContaining('wrong dataset') });
    });

    it('a secret file that holds no secret, without echoing it', async () => {
      writeFileSync(file('not-a-secret'), 'hunter2-hunter2\n');
      const { code, stdout, stderr } = await prove({ secret: file('not-a-secret') });
      expect(errorOf(stdout).code).toBe('ROWS_BAD_INPUT');
      expect(code).toBe(2);
      expect(stdout + stderr).not.toContain('hunter2');
    });

    it('a secret pasted with a space, a 0X or a digit short, and a secret-like path that does not exist, none of them echoed', async () => {
      for (const given of [` ${secretHex}`, `0X${secretHex}`, secretHex.slice(1), `${secretHex} `]) {
        const { code, stdout, stderr } = await prove({ secret: given });
        expect(errorOf(stdout).code, given).toBe('ROWS_SECRET_ON_COMMAND_LINE');
        expect(code).toBe(2);
        expect(stdout + stderr).not.toContain(secretHex.slice(1, 40));
      }
      const missing = await prove({ secret: file(`s-${secretHex.slice(0, 40)}`) });
      expect(errorOf(missing.stdout).code).toBe('CLI_FILE_NOT_FOUND');
      expect(missing.stdout + missing.stderr).not.toContain(secretHex.slice(0, 40));
    });

    it('an --out that exists (not written through: its mode and target are not ours), and --rows given twice adds up', async () => {
      writeFileSync(file('taken.json'), 'keep me\n', { mode: 0o644 });
      const taken = await prove({ out: file('taken.json') });
      expect(errorOf(taken.stdout).code).toBe('ROWS_PROOF_UNWRITABLE');
      expect(readFileSync(file('taken.json'), 'utf8')).toBe('keep me\n');
      const twice = await cli([
        'prove',
        '--certificate',
        file('cert.json'),
        '--dataset',
        file('data.csv'),
        '--secret',
        file('secret'),
        '--rows',
        '17',
        '--rows',
        '42',
      ]);
      expect(twice.code).toBe(0);
      expect((JSON.parse(twice.stdout) as { rows: { index: number }[] }).rows.map((r) => r.index)).toEqual([17, 42]);
    });

    it('an index past the records: ROWS_PROOF_INDEX_INVALID; a bad --rows list: CLI_USAGE', async () => {
      expect(errorOf((await prove({ rows: '10001' })).stdout).code).toBe('ROWS_PROOF_INDEX_INVALID');
      const usage = await prove({ rows: '17,17' });
      expect(errorOf(usage.stdout).code).toBe('CLI_USAGE');
      expect(usage.code).toBe(2);
    });

    it('a certificate that commits no rows, saying why: ROWS_NOT_COMMITTED', async () => {
      writeFileSync(file('absent.json'), rowCertificate({ dataset: csv, rows: { absent: 'csv_quoting' } }).text);
      writeFileSync(file('none.json'), rowCertificate({ dataset: csv, rows: 'none' }).text);
      const absent = await prove({ certificate: file('absent.json') });
      expect(errorOf(absent.stdout)).toMatchObject({ code: 'ROWS_NOT_COMMITTED', message: expect.stringContaining('csv_quoting') });
      expect(absent.code).toBe(1);
      const none = await prove({ certificate: file('none.json') });
      expect(errorOf(none.stdout)).toMatchObject({ code: 'ROWS_NOT_COMMITTED', message: expect.stringContaining('did not commit') });
      const checked = await cli(['verify-rows', file('none.json'), file('proof.json'), '--trust-key', VECTOR_PUBLIC_KEY, '--json']);
      expect(errorOf(checked.stdout).code).toBe('ROWS_NOT_COMMITTED');
    });
  });
});
