/**
 * Row commitments through a real server on loopback (docs/row-proofs.md §6–7):
 * the run commits the dataset's records in `dataset.loaded`, and the secret
 * reaches the submitter only, once: in the 200 or the 202 of a plain request,
 * derived from the HPKE context of a sealed one. The secret proves records
 * against the served certificate; no file of the server's data directory,
 * no answer but the first, and no log line holds it. A dataset that cannot
 * be split still runs, and the certificate says why its rows are absent.
 * Real bubblewrap sandbox, real SQLite log, simulated attestor.
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../app.js';
import type { SimulatedAttestor } from '../../attest/node.js';
import { loadConfig } from '../../config.js';
import { checkRowProof, proveAbsence, proveRecords } from '../../rows/index.js';
import { submitSealed } from '../../seal/index.js';
import { nodeSealCrypto } from '../../seal/node-aead.js';
import { createServices, type Services } from '../../services.js';
import { verifyCertificate, type Certificate } from '../../verify/index.js';

const ROWS = ['id,name', ...Array.from({ length: 9 }, (_, i) => `${i + 1},"name ${i + 1}, with a comma"`)].join('\n');
const sandbox = { tools: ['bash'], scripts: { 'main.sh': 'wc -l < /data/dataset.csv' }, environment: { timeout_seconds: 20, max_memory_mb: 64 } };
const request = (dataset: string, extra: Record<string, unknown> = {}) => ({
  dataset: { data: `base64:${Buffer.from(dataset).toString('base64')}`, format: 'csv', ...extra },
  sandbox,
});

describe('row commitments on POST /execute', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-rows-'));
  let services: Services;
  let app: FastifyInstance;
  let base = '';
  let logged = '';
  const secrets: string[] = [];

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the server answers
    return { status: response.status, json: (await response.json()) as any };
  };
  const served = async (id: string): Promise<Certificate> => (await (await fetch(`${base}/certificate/${id}`)).json()) as Certificate;

  beforeAll(async () => {
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir }));
    // Every line the server logs (info level, as `ephemera serve` runs): the secret must be in none.
    app = await buildApp(services, { logger: { level: 'info', stream: { write: (line: string) => void (logged += line) } } as never });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the records, answers the secret once, and the secret proves records against the served certificate', async () => {
    const answer = await post(request(ROWS));
    expect(answer.status).toBe(200);
    expect(answer.json.row_secret).toMatch(/^[0-9a-f]{64}$/);
    secrets.push(answer.json.row_secret);
    const certificate = await served(answer.json.certificate_id);
    expect(certificate.dataset.rows).toMatchObject({ format: 'csv', count: 10, sorted_by: null });
    const verdict = await verifyCertificate(certificate, services.verifyOptions);
    expect(verdict).toMatchObject({ valid: true, rows: { committed: true, format: 'csv', count: 10, root: certificate.dataset.rows!.root } });

    const proof = await proveRecords(
      { certificateId: certificate.certificate_id, format: 'csv', dataset: Buffer.from(ROWS), secret: Buffer.from(answer.json.row_secret, 'hex') },
      [0, 7],
    );
    const proven = checkRowProof(proof, { certificate_id: certificate.certificate_id, ...certificate.dataset.rows! });
    expect(proven.rows.map((r) => Buffer.from(r.record).toString())).toEqual(['id,name', '7,"name 7, with a comma"']);
    // Another run of the same data has another secret: a proof of one run's rows is not one of the other's.
    const again = await post(request(ROWS));
    secrets.push(again.json.row_secret);
    expect(again.json.row_secret).not.toBe(answer.json.row_secret);
    const other = await served(again.json.certificate_id);
    expect(other.dataset.rows!.root).not.toBe(certificate.dataset.rows!.root);
    expect(() => checkRowProof({ ...proof, certificate_id: other.certificate_id }, { certificate_id: other.certificate_id, ...other.dataset.rows! })).toThrow(
      expect.objectContaining({ code: 'ROWS_PROOF_WRONG_CERTIFICATE' }),
    );
  });

  it('answers the secret in the 202 of an async run, and never again', async () => {
    const accepted = await post(request(ROWS), { prefer: 'respond-async' });
    expect(accepted.status).toBe(202);
    expect(accepted.json.row_secret).toMatch(/^[0-9a-f]{64}$/);
    secrets.push(accepted.json.row_secret);
    const id = accepted.json.execution_id as string;
    const status = await vi.waitFor(
      async () => {
        const text = await (await fetch(`${base}/executions/${id}`)).text();
        expect(JSON.parse(text).state).toBe('certified');
        return text;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(status).not.toContain(accepted.json.row_secret);
    const certificate = await served(`cert_${id}`);
    const proof = await proveRecords(
      { certificateId: certificate.certificate_id, format: 'csv', dataset: Buffer.from(ROWS), secret: Buffer.from(accepted.json.row_secret, 'hex') },
      [9],
    );
    expect(checkRowProof(proof, { certificate_id: certificate.certificate_id, ...certificate.dataset.rows! }).rows).toHaveLength(1);
  });

  it('commits the records sorted by a key when asked, and the secret proves a key absent', async () => {
    const answer = await post(request(ROWS, { rows: { sorted_by: 'name' } }));
    expect(answer.status).toBe(200);
    secrets.push(answer.json.row_secret);
    const certificate = await served(answer.json.certificate_id);
    expect(certificate.dataset.rows).toMatchObject({ format: 'csv', count: 10, sorted_by: 'name' });
    const proof = await proveAbsence(
      {
        certificateId: certificate.certificate_id,
        format: 'csv',
        dataset: Buffer.from(ROWS),
        secret: Buffer.from(answer.json.row_secret, 'hex'),
        sortedBy: 'name',
      },
      ['name 4, with a comma!', 'zed'],
    );
    const checked = checkRowProof(proof, { certificate_id: certificate.certificate_id, ...certificate.dataset.rows! });
    expect(checked.absent).toEqual(['name 4, with a comma!', 'zed']);
    await expect(
      proveAbsence(
        {
          certificateId: certificate.certificate_id,
          format: 'csv',
          dataset: Buffer.from(ROWS),
          secret: Buffer.from(answer.json.row_secret, 'hex'),
          sortedBy: 'name',
        },
        ['name 4, with a comma'],
      ),
    ).rejects.toMatchObject({ code: 'ROWS_KEY_PRESENT' });
    // A sort key the header does not have: the run goes on, committed by its hash alone.
    const missing = await post(request(ROWS, { rows: { sorted_by: 'ssn' } }));
    expect(missing.json).not.toHaveProperty('row_secret');
    expect((await served(missing.json.certificate_id)).dataset.rows_absent).toEqual({ reason: 'sort_key_invalid' });
  });

  it('commits nothing and answers no secret for rows "none"', async () => {
    const answer = await post(request(ROWS, { rows: 'none' }));
    expect(answer.status).toBe(200);
    expect(answer.json).not.toHaveProperty('row_secret');
    const certificate = await served(answer.json.certificate_id);
    expect(certificate.dataset).not.toHaveProperty('rows');
    expect(certificate.dataset.rows_absent).toEqual({ reason: 'not_requested' });
  });

  it('runs a dataset it cannot split, committed by its hash alone, and the certificate says why', async () => {
    const answer = await post(request('a,b\n1,x"y\n'));
    expect(answer.status).toBe(200);
    expect(answer.json).not.toHaveProperty('row_secret');
    expect(answer.json).toMatchObject({ status: 'completed', result: { output: '2\n' } });
    const certificate = await served(answer.json.certificate_id);
    expect(certificate.dataset.rows_absent).toEqual({ reason: 'csv_quoting' });
    expect(await verifyCertificate(certificate, services.verifyOptions)).toMatchObject({ valid: true, rows: { committed: false, reason: 'csv_quoting' } });
  });

  it('refuses a sort key for a txt dataset, and a rows member it does not know, before anything runs', async () => {
    const txt = await post({ ...request('a\nb\n'), dataset: { data: 'base64:YQpiCg==', format: 'txt', rows: { sorted_by: 'x' } } });
    expect(txt.status).toBe(400);
    expect(txt.json.error).toMatchObject({ code: 'REQUEST_INVALID', field: 'body.dataset.rows.sorted_by' });
    const unknown = await post(request(ROWS, { rows: 'all' }));
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'REQUEST_INVALID' });
  });

  it('derives the secret of a sealed request from its HPKE context: the answer says "sealed", the client holds it', async () => {
    const publicKey = (services.attestor as SimulatedAttestor).publicKeyHex;
    const sent = await submitSealed({
      server: base,
      policy: { trustedKeys: [publicKey] },
      input: { dataset: Buffer.from(ROWS), format: 'csv', sandbox },
      crypto: nodeSealCrypto,
    });
    expect(sent.status).toBe(200);
    const body = sent.body as { row_secret: string; certificate_id: string };
    expect(body.row_secret).toBe('sealed');
    secrets.push(Buffer.from(sent.rowSecret).toString('hex'));
    const certificate = await served(body.certificate_id);
    const proof = await proveRecords({ certificateId: certificate.certificate_id, format: 'csv', dataset: Buffer.from(ROWS), secret: sent.rowSecret }, [3]);
    expect(checkRowProof(proof, { certificate_id: certificate.certificate_id, ...certificate.dataset.rows! }).rows).toHaveLength(1);
  });

  it('leaves no secret in any file of the data directory or in any log line', () => {
    expect(secrets).toHaveLength(5);
    // ClickHouse's temporary parts come and go while the projections run: a file gone since the listing held nothing.
    const gone = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';
    const walk = (path: string) => {
      for (const name of readdirSync(path)) {
        const child = join(path, name);
        try {
          if (statSync(child).isDirectory()) walk(child);
          else files.push({ path: child, bytes: readFileSync(child) });
        } catch (error) {
          if (!gone(error)) throw error;
        }
      }
    };
    const files: { path: string; bytes: Buffer }[] = [];
    walk(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      const raw = Buffer.from(secret, 'hex');
      for (const file of files) {
        expect(file.bytes.includes(secret), file.path).toBe(false);
        expect(file.bytes.includes(raw), file.path).toBe(false);
      }
      expect(logged).not.toContain(secret);
    }
    expect(logged.length).toBeGreaterThan(0);
  });
});
