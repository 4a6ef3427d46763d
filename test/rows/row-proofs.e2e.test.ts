/**
 * Issue 21's "done when", for real: a real 10,000-row CSV goes through a real
 * run (`ephemera run`, bubblewrap, the embedded log), whose secret proves
 * three of its rows (`ephemera prove`) to a verifier that never sees the
 * dataset: `ephemera verify-rows` in a directory holding only the certificate
 * and the proof, and the /rows page in Chromium given the two files. Every
 * tampering of the proof is refused with its code, by the same checks the
 * CLI and the page run. A run sorted by a column proves a key absent, in Node
 * and in the browser.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/testing/run-cli.js';
import { checkProofForCertificate, parseRowProof, recordText, splitRecords } from '../../src/rows/index.js';
import { PROOF_TAMPERINGS, tenThousandRowCsv } from '../../src/rows/testing/row-certificate.js';
import { verifyCertificateText } from '../../src/verify/index.js';
import { webRoutes } from '../../src/web/plugin.js';
import { launchChromium } from '../../src/web/testing/chromium.js';

const PROVEN = [17, 42, 9000];
const SANDBOX = {
  tools: ['python'],
  scripts: {
    'main.py':
      'import csv, os\nrows = list(csv.DictReader(open(os.environ["DATASET_PATH"], newline="")))\nprint(sum(float(r["amount"]) > 500 for r in rows))\n',
  },
  environment: { timeout_seconds: 60, max_memory_mb: 256 },
};

describe('a real run of 10,000 rows, three of them proven to a verifier who never sees the dataset', () => {
  const root = mkdtempSync(join(tmpdir(), 'ephemera-row-proofs-'));
  const submitter = join(root, 'submitter');
  const verifier = join(root, 'verifier');
  const csv = tenThousandRowCsv();
  const records = splitRecords('csv', csv);
  const env = (home: string) => ({ ...process.env, XDG_CONFIG_HOME: join(home, 'config'), EPHEMERA_TRUSTED_KEYS: '' });
  const asSubmitter = (args: string[]) => runCli([...args, '--data-dir', join(submitter, 'data')], { env: env(submitter), cwd: submitter });
  const asVerifier = (args: string[]) => runCli([...args, '--data-dir', join(verifier, 'data')], { env: env(verifier), cwd: verifier });
  const at = (dir: string, name: string) => join(dir, name);
  let fingerprint = '';
  let app: FastifyInstance;
  let base = '';
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(submitter);
    mkdirSync(verifier);
    writeFileSync(at(submitter, 'data.csv'), csv);
    writeFileSync(at(submitter, 'sandbox.json'), JSON.stringify(SANDBOX));
    for (const [name, rows] of [
      ['cert', 'input'],
      ['sorted', 'sorted:email'],
    ] as const) {
      const ran = await asSubmitter([
        'run',
        '--dataset',
        'data.csv',
        '--sandbox',
        'sandbox.json',
        '--out',
        `${name}.json`,
        '--rows',
        rows,
        '--row-secret',
        `${name}.secret`,
        '--quiet',
      ]);
      expect(ran.code, ran.stderr).toBe(0);
    }
    fingerprint = /sha256:[0-9a-f]{64}/.exec((await asSubmitter(['verify', 'cert.json'])).stdout)![0];
    app = Fastify();
    await app.register(webRoutes({ certificateExists: async () => false }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    context = await launchChromium(root);
    page = await context.newPage();
    await page.goto(`${base}/rows`);
    await page.evaluate((pin) => localStorage.setItem('ephemera.trusted-keys', JSON.stringify([pin])), fingerprint);
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await app?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** The /rows page given the certificate and the proof as files: its outcome, title and what it shows. */
  const inBrowser = async (certificate: string, proof: string) => {
    const file = (name: string, text: string) => ({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
    await page.getByTestId('certificate-file').setInputFiles(file('certificate.json', certificate));
    await page.getByTestId('proof-file').setInputFiles(file('proof.json', proof));
    await page.getByTestId('check-rows').click();
    const verdict = page.getByTestId('rows-verdict');
    await verdict.waitFor();
    return {
      outcome: await verdict.getAttribute('data-outcome'),
      records: await page.getByTestId('proven-record').allTextContents(),
      absent: await page.getByTestId('absent-key').allTextContents(),
    };
  };

  it('certifies the run with its 10,001 records committed, and gives the secret to the submitter only', () => {
    const certificate = JSON.parse(readFileSync(at(submitter, 'cert.json'), 'utf8'));
    expect(certificate.status).toBe('completed');
    expect(certificate.dataset.rows).toMatchObject({ format: 'csv', count: 10_001, sorted_by: null });
    expect(readFileSync(at(submitter, 'cert.secret'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(readFileSync(at(submitter, 'cert.json'), 'utf8')).not.toContain(readFileSync(at(submitter, 'cert.secret'), 'utf8').trim());
  });

  it('proves three rows; the verifier, with only the certificate and the proof, sees those rows and nothing else', async () => {
    const proved = await asSubmitter([
      'prove',
      '--certificate',
      'cert.json',
      '--dataset',
      'data.csv',
      '--secret',
      'cert.secret',
      '--rows',
      PROVEN.join(','),
      '--out',
      'proof.json',
    ]);
    expect(proved.code, proved.stderr).toBe(0);
    writeFileSync(at(verifier, 'cert.json'), readFileSync(at(submitter, 'cert.json')));
    writeFileSync(at(verifier, 'proof.json'), readFileSync(at(submitter, 'proof.json')));
    const checked = await asVerifier(['verify-rows', 'cert.json', 'proof.json', '--trust-key', fingerprint]);
    expect(checked.code, checked.stderr).toBe(0);
    const shown = checked.stdout.split('\n').filter((line) => line.startsWith('  record '));
    expect(shown).toEqual(PROVEN.map((i) => `  record ${i}: ${recordText(records[i]!)}`));
    // Nothing of the dataset reached the verifier's side but those records: no other record in any file there.
    const files = readdirSync(verifier, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.map((e) => e.name)).not.toContain('data.csv');
    const everything = files.map((e) => readFileSync(join(e.parentPath, e.name), 'latin1')).join('\n');
    for (const [i, record] of records.entries())
      if (!PROVEN.includes(i) && i % 97 === 1) {
        const text = Buffer.from(record).toString('latin1');
        expect(everything.includes(text) || everything.includes(Buffer.from(record).toString('base64'))).toBe(false);
      }
    const proof = readFileSync(at(verifier, 'proof.json'), 'utf8');

    const page3 = await inBrowser(readFileSync(at(verifier, 'cert.json'), 'utf8'), proof);
    expect(page3).toMatchObject({ outcome: 'proven', records: PROVEN.map((i) => recordText(records[i]!)) });
  });

  it('refuses every tampering of the proof with its code, in Node (the CLI and the page run the same check) and in the browser', async () => {
    const certificate = readFileSync(at(verifier, 'cert.json'), 'utf8');
    const verdict = await verifyCertificateText(Buffer.from(certificate), { trustedKeys: [fingerprint] });
    expect(verdict.valid).toBe(true);
    const proof = readFileSync(at(verifier, 'proof.json'), 'utf8');
    const refusedInNode: Record<string, string> = {};
    const refusedInBrowser: Record<string, string | null> = {};
    for (const tampering of PROOF_TAMPERINGS) {
      const text = tampering.edit(JSON.parse(proof));
      try {
        checkProofForCertificate(parseRowProof(text), verdict.certificate_id!, verdict.rows);
        refusedInNode[tampering.name] = 'ACCEPTED';
      } catch (error) {
        refusedInNode[tampering.name] = (error as { code: string }).code;
      }
      const shown = await inBrowser(certificate, text);
      refusedInBrowser[tampering.name] = shown.outcome;
      expect(shown.records).toEqual([]);
    }
    const expected = Object.fromEntries(PROOF_TAMPERINGS.map((t) => [t.name, t.code]));
    expect(refusedInNode).toEqual(expected);
    expect(refusedInBrowser).toEqual(expected);
    // And the CLI, on one of them: its code, exit 1, no record printed.
    writeFileSync(at(verifier, 'tampered.json'), PROOF_TAMPERINGS[0]!.edit(JSON.parse(proof)));
    const refused = await asVerifier(['verify-rows', 'cert.json', 'tampered.json', '--trust-key', fingerprint, '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(PROOF_TAMPERINGS[0]!.code);
    expect(refused.stdout).not.toContain('person 17');
  });

  it('--row-secret: refused before the run when it cannot take the secret; removed when the run commits no rows', async () => {
    const run = (...extra: string[]) => asSubmitter(['run', '--dataset', 'data.csv', '--sandbox', 'sandbox.json', '--quiet', '--json', ...extra]);
    const same = await run('--out', 'same.json', '--row-secret', 'same.json');
    expect(same.code).toBe(2);
    expect(same.stdout).toContain('CLI_USAGE');
    const nowhere = await run('--out', 'nowhere.json', '--row-secret', 'no/such/dir/s');
    expect(nowhere.code).toBe(2);
    expect(nowhere.stdout).toContain('nothing was run');
    expect(existsSync(at(submitter, 'nowhere.json'))).toBe(false);
    expect(existsSync(at(submitter, 'same.json'))).toBe(false);
    const typo = await run('--rows', 'sorted:emial');
    expect(typo.code).toBe(2);
    expect(typo.stdout).toContain('the header does not name that column exactly once; nothing was run');
    writeFileSync(at(submitter, 'broken.csv'), 'a,b\n1,x"y\n');
    const broken = await asSubmitter(['run', '--dataset', 'broken.csv', '--sandbox', 'sandbox.json', '--quiet', '--row-secret', 'broken.secret']);
    expect(broken.code).toBe(3); // the script fails on it: certified all the same
    expect(broken.stdout).toContain('rows        not committed (csv_quoting)');
    expect(existsSync(at(submitter, 'broken.secret'))).toBe(false);
  });

  it('proves an email absent from the run sorted by email, and refuses to prove a present one absent', async () => {
    const sorted = JSON.parse(readFileSync(at(submitter, 'sorted.json'), 'utf8'));
    expect(sorted.dataset.rows).toMatchObject({ count: 10_001, sorted_by: 'email' });
    const proved = await asSubmitter([
      'prove',
      '--certificate',
      'sorted.json',
      '--dataset',
      'data.csv',
      '--secret',
      'sorted.secret',
      '--absent',
      'nobody@example.org',
      '--out',
      'absent.json',
    ]);
    expect(proved.code, proved.stderr).toBe(0);
    writeFileSync(at(verifier, 'sorted.json'), readFileSync(at(submitter, 'sorted.json')));
    writeFileSync(at(verifier, 'absent.json'), readFileSync(at(submitter, 'absent.json')));
    const checked = await asVerifier(['verify-rows', 'sorted.json', 'absent.json', '--trust-key', fingerprint]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain('  key nobody@example.org');
    const shown = await inBrowser(readFileSync(at(verifier, 'sorted.json'), 'utf8'), readFileSync(at(verifier, 'absent.json'), 'utf8'));
    expect(shown).toMatchObject({ outcome: 'proven', absent: ['nobody@example.org'] });
    const present = await asSubmitter([
      'prove',
      '--certificate',
      'sorted.json',
      '--dataset',
      'data.csv',
      '--secret',
      'sorted.secret',
      '--absent',
      'p9000@example.org',
      '--json',
    ]);
    expect(present.code).toBe(1);
    expect(present.stdout).toContain('ROWS_KEY_PRESENT');
    // The submitter knows a record by its key: --key finds it wherever it sits in key order.
    const prove = (...extra: string[]) =>
      asSubmitter(['prove', '--certificate', 'sorted.json', '--dataset', 'data.csv', '--secret', 'sorted.secret', ...extra]);
    const byKey = await prove('--key', 'p9000@example.org', '--out', 'key.json');
    expect(byKey.code, byKey.stderr).toBe(0);
    writeFileSync(at(verifier, 'key.json'), readFileSync(at(submitter, 'key.json')));
    const shownByKey = await asVerifier(['verify-rows', 'sorted.json', 'key.json', '--trust-key', fingerprint]);
    expect(shownByKey.code, shownByKey.stderr).toBe(0);
    const keyed = shownByKey.stdout.split('\n').filter((line) => line.startsWith('  record '));
    expect(keyed.map((line) => line.replace(/^ {2}record \d+: /, ''))).toEqual([recordText(records[0]!), recordText(records[9000]!)]);
    const nobody = await prove('--key', 'nobody@example.org', '--json');
    expect(nobody.code).toBe(2);
    expect(nobody.stdout).toContain('ROWS_BAD_INPUT');
  });
});
