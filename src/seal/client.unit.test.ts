/**
 * The client (docs/sealed.md §2–4) against a loopback HTTP server that serves a key document
 * and opens what it is sent with the real library: a good key is checked, then the request is
 * sealed and sent; a key that fails any check means nothing is POSTed; a 200 that names another
 * statement is refused; fetching is bounded (status, size, redirects).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nodeSealCrypto } from './node-aead.js';
import { fetchKeyDocument, submitSealed } from './client.js';
import { openSealedRequest, readSealedHeader } from './sealed-request.js';
import { NOW, SIGNING_PUBLIC_KEY, makeKeyDocument } from './testing/key-documents.js';
import { KEY_DOCUMENT_PATH, SEALED_REQUEST_CONTENT_TYPE, type KeyPolicy, type OpenedRequest, type SealRequestInput } from './types.js';
import { codeOf } from './testing/code-of.js';

const { document, key } = await makeKeyDocument();
const POLICY: KeyPolicy = { trustedKeys: [SIGNING_PUBLIC_KEY], now: () => NOW };
const INPUT: SealRequestInput = {
  dataset: new TextEncoder().encode('a,b\n1,2\n'),
  format: 'csv',
  sandbox: { tools: ['bash'] },
  apiKey: 'sk-secret',
  chunkBytes: 65_536,
};

type Route = (req: IncomingMessage, body: Buffer, res: ServerResponse) => unknown;
let routes: Map<string, Route>;
let posts: { headers: IncomingMessage['headers']; opened: OpenedRequest | null }[];
let base = '';
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const route = routes.get(`${req.method} ${req.url}`);
  if (!route) return void res.writeHead(404).end('{"error":"NOT_FOUND"}');
  await route(req, Buffer.concat(chunks), res);
});
const json = (res: ServerResponse, status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
/** POST /execute as a server would: open the sealed body, answer with the submission it records. */
const execute: Route = async (req, body, res) => {
  const bytes = new Uint8Array(body);
  const opened = await openSealedRequest(bytes, readSealedHeader(bytes), key, nodeSealCrypto);
  posts.push({ headers: req.headers, opened });
  json(res, 200, { certificate_id: 'cert_x', submission: opened.submission });
};

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  posts = [];
  routes = new Map<string, Route>([
    [`GET ${KEY_DOCUMENT_PATH}`, (_req, _body, res) => json(res, 200, document)],
    ['POST /execute', execute],
  ]);
});

describe('submitSealed', () => {
  it('checks the key, then seals and sends: the server opens exactly what was given', async () => {
    const order: string[] = [];
    const answer = await submitSealed({
      server: base,
      token: 'tok',
      policy: POLICY,
      input: INPUT,
      crypto: nodeSealCrypto,
      onVerified: (verified) => order.push(`verified ${verified.trust.basis} ${posts.length}`),
    });
    expect(order).toEqual(['verified pinned-key 0']);
    expect(answer.status).toBe(200);
    expect(answer.statementHash).toBe(document.statement_hash);
    expect(answer.body).toMatchObject({ submission: { key_statement_hash: document.statement_hash, sealed: ['dataset', 'api_key'] } });
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers['content-type']).toBe(SEALED_REQUEST_CONTENT_TYPE);
    expect(posts[0]!.headers.authorization).toBe('Bearer tok');
    expect(posts[0]!.headers.prefer).toBeUndefined();
    expect(posts[0]!.opened!.apiKey).toBe('sk-secret');
    expect(new TextDecoder().decode(posts[0]!.opened!.dataset)).toBe('a,b\n1,2\n');
  });

  it('asks for the async answer with Prefer: respond-async, and returns any status and body as they are', async () => {
    routes.set('POST /execute', (req, _body, res) => {
      posts.push({ headers: req.headers, opened: null });
      json(res, 202, { execution_id: 'x' });
    });
    const answer = await submitSealed({ server: base, policy: POLICY, input: INPUT, async: true });
    expect(posts[0]!.headers.prefer).toBe('respond-async');
    expect(posts[0]!.headers.authorization).toBeUndefined();
    expect(answer).toMatchObject({ status: 202, body: { execution_id: 'x' } });
  });

  it("returns the cookies the key document's answer set (a proxy's node affinity) with the POST, and only their name=value", async () => {
    routes.set(`GET ${KEY_DOCUMENT_PATH}`, (_req, _body, res) => {
      res.setHeader('set-cookie', ['ephemera-node=ephemera-2; path=/; HttpOnly', 'other=1; Max-Age=60']);
      json(res, 200, document);
    });
    await submitSealed({ server: base, policy: POLICY, input: INPUT });
    expect(posts[0]!.headers.cookie).toBe('ephemera-node=ephemera-2; other=1');
    // No cookie set, none sent.
    routes.set(`GET ${KEY_DOCUMENT_PATH}`, (_req, _body, res) => json(res, 200, document));
    await submitSealed({ server: base, policy: POLICY, input: INPUT });
    expect(posts[1]!.headers.cookie).toBeUndefined();
  });

  it.each<[string, KeyPolicy]>([
    ['the key is not pinned', { now: () => NOW }],
    ['the key is stale', { ...POLICY, now: () => new Date('2027-01-01T00:00:00.000Z') }],
  ])('sends nothing when %s', async (_what, policy) => {
    expect(await codeOf(() => submitSealed({ server: base, policy, input: INPUT }))).toMatch(/^SEAL_KEY_(UNTRUSTED|STALE)$/);
    expect(posts).toHaveLength(0);
  });

  it('sends nothing when the served document’s attestation does not bind the key it serves', async () => {
    const other = await makeKeyDocument();
    // The other key, under this document's attestation: what a host swapping in its own key would serve.
    routes.set(`GET ${KEY_DOCUMENT_PATH}`, (_req, _body, res) => json(res, 200, { ...other.document, attestation: document.attestation }));
    expect(await codeOf(() => submitSealed({ server: base, policy: POLICY, input: INPUT }))).toBe('ATTEST_SIGNATURE_INVALID');
    expect(posts).toHaveLength(0);
  });

  it('is SEAL_SUBMISSION_MISMATCH when a 200 names another key statement, or none', async () => {
    for (const submission of [{ key_statement_hash: `sha256:${'0'.repeat(64)}` }, null]) {
      routes.set('POST /execute', (_req, _body, res) => json(res, 200, { submission }));
      expect(await codeOf(() => submitSealed({ server: base, policy: POLICY, input: INPUT }))).toBe('SEAL_SUBMISSION_MISMATCH');
    }
  });
});

describe('fetchKeyDocument', () => {
  it('fetches and parses the document', async () => {
    expect((await fetchKeyDocument(base)).statement_hash).toBe(document.statement_hash);
  });

  it.each<[string, Route]>([
    ['a 404', (_req, _body, res) => void res.writeHead(404).end()],
    ['a 500', (_req, _body, res) => void res.writeHead(500).end('oops')],
    ['a redirect (the key belongs to the node that answers)', (_req, _body, res) => void res.writeHead(302, { location: `${base}/elsewhere` }).end()],
    ['a dropped connection', (req) => void req.socket.destroy()],
  ])('is SEAL_KEY_DOCUMENT_UNAVAILABLE on %s', async (_what, route) => {
    routes.set(`GET ${KEY_DOCUMENT_PATH}`, route);
    expect(await codeOf(() => fetchKeyDocument(base))).toBe('SEAL_KEY_DOCUMENT_UNAVAILABLE');
  });

  it('is SEAL_KEY_DOCUMENT_MALFORMED for a body past 8 MiB, declared or streamed', async () => {
    routes.set(`GET ${KEY_DOCUMENT_PATH}`, (_req, _body, res) => void res.writeHead(200, { 'content-length': String(9 << 20) }).end(' '.repeat(9 << 20)));
    expect(await codeOf(() => fetchKeyDocument(base))).toBe('SEAL_KEY_DOCUMENT_MALFORMED');
    routes.set(`GET ${KEY_DOCUMENT_PATH}`, (_req, _body, res) => {
      res.writeHead(200);
      for (let i = 0; i < 9; i++) res.write(' '.repeat(1 << 20));
      res.end();
    });
    expect(await codeOf(() => fetchKeyDocument(base))).toBe('SEAL_KEY_DOCUMENT_MALFORMED');
  });

  it('is SEAL_KEY_DOCUMENT_UNAVAILABLE for a server that is not an http(s) URL', async () => {
    expect(await codeOf(() => fetchKeyDocument('not a url'))).toBe('SEAL_KEY_DOCUMENT_UNAVAILABLE');
    expect(await codeOf(() => fetchKeyDocument('file:///etc/'))).toBe('SEAL_KEY_DOCUMENT_UNAVAILABLE');
  });

  it('gives the fetch a time limit', async () => {
    let signal: AbortSignal | undefined;
    const spy: typeof fetch = async (url, init) => {
      signal = init?.signal ?? undefined;
      return fetch(url, init);
    };
    await fetchKeyDocument(base, spy);
    expect(signal).toBeInstanceOf(AbortSignal);
  });
});
