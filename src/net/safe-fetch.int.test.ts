/**
 * The guarded fetcher against real servers on 127.0.0.1 (plain and TLS), a
 * real DNS server on 127.0.0.1 reached through a dns.Resolver, and a connect
 * hook that fails the test if a refused target is ever connected to. No
 * packet goes to any address but loopback: names that resolve elsewhere are
 * refused before connecting, or meet a hook that records and refuses.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EphemeraError } from '../errors.js';
import { EMPTY_ALLOWLIST, parseAllowList } from './address-policy.js';
import { type Connect, directConnect, type FetchDeps, type FetchPolicy, resolverResolve, safeFetch, type Target } from './safe-fetch.js';
import { type LocalDns, type LocalServer, selfSignedCertificate, startDns, startServer, type TestCertificate } from './testing/local-servers.js';

const NAME = 'data.test';
const policy = (overrides: Partial<FetchPolicy> = {}): FetchPolicy => ({
  allowHttp: false,
  allow: EMPTY_ALLOWLIST,
  maxRedirects: 5,
  timeoutMs: 20_000,
  idleTimeoutMs: 10_000,
  maxBytes: 1024,
  ...overrides,
});

/** A connect function that must never run: it records the target and fails. */
function forbiddenConnect(): Connect & { calls: Target[] } {
  const calls: Target[] = [];
  const connect = async (target: Target) => {
    calls.push(target);
    throw new Error(`connect must not be called (${target.address})`);
  };
  return Object.assign(connect, { calls });
}

async function refusal(work: Promise<unknown>): Promise<EphemeraError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EphemeraError);
  return error as EphemeraError;
}

describe('safeFetch', () => {
  let cert: TestCertificate;
  let https: LocalServer;
  let http: LocalServer;
  let inner: LocalServer;
  let dns: LocalDns;
  let deps: FetchDeps;

  beforeAll(async () => {
    cert = selfSignedCertificate(NAME);
    const respond = (path: string | undefined, res: ServerResponse) => {
      if (path === '/data.csv') return void res.end('a,b\n1,2\n');
      if (path === '/empty') return void res.end();
      if (path === '/huge') return void res.end('x'.repeat(4096));
      if (path === '/chunked-huge') {
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 8; i++) res.write('y'.repeat(256));
        return void res.end();
      }
      if (path === '/to-data') return void res.writeHead(302, { location: '/data.csv' }).end();
      if (path === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      if (path === '/to-http') return void res.writeHead(302, { location: `http://127.0.0.1:${http.port}/data.csv` }).end();
      if (path === '/to-inner') return void res.writeHead(307, { location: '/to-inner-2' }).end();
      if (path === '/to-inner-2') return void res.writeHead(302, { location: `http://127.0.0.1:${inner.port}/secret` }).end();
      if (path === '/to-inner-mapped') return void res.writeHead(301, { location: `http://[::ffff:7f00:1]:${inner.port}/secret` }).end();
      if (path === '/to-metadata-name') return void res.writeHead(302, { location: 'http://metadata.test/latest/meta-data/' }).end();
      if (path === '/to-nowhere') return void res.writeHead(302, { location: 'http://[not-an-address/' }).end();
      if (path === '/stall-headers') return; // never answers
      if (path === '/stall-body') {
        res.writeHead(200, { 'content-length': '100' });
        return void res.write('a');
      }
      if (path === '/drip') {
        res.writeHead(200, { 'content-length': '1000' });
        const timer = setInterval(() => (res.writableEnded || res.destroyed ? clearInterval(timer) : res.write('b')), 20);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(404).end();
    };
    https = await startServer((req, res) => respond(new URL(req.url ?? '/', 'http://x').pathname, res), cert);
    http = await startServer((req, res) => respond(new URL(req.url ?? '/', 'http://x').pathname, res));
    inner = await startServer((_req, res) => void res.end('the server API: must never be read'));
    dns = await startDns({
      [NAME]: ['127.0.0.1'],
      'ten.test': ['10.0.0.7'],
      'metadata.test': ['169.254.169.254'],
      'metadata6.test': ['fd00:ec2::254'],
      'ula.test': ['fd00::1'],
      'linklocal.test': ['fe80::1'],
      'cgnat.test': ['100.64.0.1'],
      'zero.test': ['0.0.0.0'],
      'multicast.test': ['224.0.0.1'],
      'loop6.test': ['::1'],
      'mixed.test': ['8.8.8.8', '10.1.2.3'],
      'public.test': ['8.8.8.8'],
      'rebind.test': ['8.8.8.8'],
    });
    deps = { resolve: resolverResolve(dns.resolver), connect: directConnect({ ca: cert.cert }) };
  });
  afterAll(async () => {
    await Promise.all([https?.close(), http?.close(), inner?.close(), dns?.close()]);
  });

  describe('fetches what it may', () => {
    it('over https to the checked address, with the name in SNI, the certificate check and Host', async () => {
      const allow = parseAllowList([`${NAME}:${https.port}`]);
      const bytes = await safeFetch(`https://${NAME}:${https.port}/to-data?token=x`, policy({ allow }), deps);
      expect(Buffer.from(bytes).toString()).toBe('a,b\n1,2\n');
      expect(https.requests.slice(-2)).toEqual([
        { line: 'GET /to-data?token=x', host: `${NAME}:${https.port}`, servername: NAME },
        { line: 'GET /data.csv', host: `${NAME}:${https.port}`, servername: NAME },
      ]);
    });

    it('over https to an IP literal, the certificate checked against the address', async () => {
      const allow = parseAllowList([`127.0.0.1:${https.port}`]);
      expect(Buffer.from(await safeFetch(`https://127.0.0.1:${https.port}/data.csv`, policy({ allow }), deps)).toString()).toBe('a,b\n1,2\n');
      expect(https.requests.at(-1)).toEqual({ line: 'GET /data.csv', host: `127.0.0.1:${https.port}`, servername: null });
    });

    it('over plain http only when the server allows it, to an allowlisted range', async () => {
      const url = `http://127.0.0.1:${http.port}/data.csv`;
      const allow = parseAllowList(['127.0.0.0/8']);
      expect((await refusal(safeFetch(url, policy({ allow }), deps))).code).toBe('DATASET_URL_SCHEME_FORBIDDEN');
      expect(Buffer.from(await safeFetch(url, policy({ allow, allowHttp: true }), deps)).toString()).toBe('a,b\n1,2\n');
    });

    it('gives a public address to connect, exactly the one resolved, resolving once (no rebinding)', async () => {
      const seen: Target[] = [];
      const connect: Connect = async (target) => {
        seen.push(target);
        dns.set('rebind.test', ['127.0.0.1']); // the attacker's DNS changes its answer after the check
        throw new Error('test stand-in: no packet leaves loopback');
      };
      const before = dns.queries.filter((q) => q === 'A rebind.test').length;
      const error = await refusal(safeFetch('https://rebind.test/data', policy(), { ...deps, connect }));
      expect(error.code).toBe('DATASET_FETCH_FAILED');
      expect(seen).toEqual([{ address: '8.8.8.8', family: 4, port: 443, hostname: 'rebind.test', tls: true }]);
      expect(dns.queries.filter((q) => q === 'A rebind.test').length - before).toBe(1);
    });
  });

  describe('refuses the server itself in any spelling, before connecting', () => {
    const spellings: [string, string][] = [
      ['decimal', 'http://2130706433:PORT/'],
      ['hex', 'http://0x7f000001:PORT/'],
      ['octal', 'http://0177.0.0.1:PORT/'],
      ['short', 'http://127.1:PORT/'],
      ['other loopback', 'http://127.8.9.10:PORT/'],
      ['IPv4-mapped IPv6 (dotted)', 'http://[::ffff:127.0.0.1]:PORT/'],
      ['IPv4-mapped IPv6 (hex)', 'http://[::ffff:7f00:1]:PORT/'],
      ['IPv6 loopback', 'http://[::1]:PORT/'],
      ['localhost', 'http://localhost:PORT/'],
      ['LOCALHOST.', 'http://LOCALHOST.:PORT/'],
      ['a .localhost name', 'http://api.localhost:PORT/'],
      ['a name resolving to ::1', 'http://loop6.test:PORT/'],
    ];
    it.each(spellings)('%s → DATASET_URL_LOOPBACK', async (_label, spelling) => {
      const connect = forbiddenConnect();
      const error = await refusal(
        safeFetch(`${spelling.replace('PORT', String(inner.port))}secret?key=SECRET`, policy({ allowHttp: true }), { ...deps, connect }),
      );
      expect([error.code, error.fields.hop]).toEqual(['DATASET_URL_LOOPBACK', 0]);
      expect(connect.calls).toEqual([]);
      expect(JSON.stringify({ m: error.message, f: error.fields, c: String(error.cause) })).not.toContain('SECRET');
    });

    it('and through the system resolver: localhost and a literal, with the real connect', async () => {
      const before = inner.requests.length;
      for (const url of [`http://localhost:${inner.port}/`, `http://2130706433:${inner.port}/`]) {
        expect((await refusal(safeFetch(url, policy({ allowHttp: true })))).code).toBe('DATASET_URL_LOOPBACK');
      }
      expect(inner.requests.length).toBe(before);
    });
  });

  describe('refuses names that resolve inside, before connecting', () => {
    const cases: [string, string, string][] = [
      ['ten.test', 'DATASET_URL_PRIVATE_ADDRESS', 'private'],
      ['cgnat.test', 'DATASET_URL_PRIVATE_ADDRESS', 'carrierGradeNat'],
      ['ula.test', 'DATASET_URL_PRIVATE_ADDRESS', 'uniqueLocal'],
      ['metadata.test', 'DATASET_URL_METADATA_ADDRESS', 'metadata'],
      ['metadata6.test', 'DATASET_URL_METADATA_ADDRESS', 'metadata'],
      ['linklocal.test', 'DATASET_URL_LINK_LOCAL', 'linkLocal'],
      ['zero.test', 'DATASET_URL_RESERVED_ADDRESS', 'unspecified'],
      ['multicast.test', 'DATASET_URL_RESERVED_ADDRESS', 'multicast'],
      ['mixed.test', 'DATASET_URL_PRIVATE_ADDRESS', 'private'],
    ];
    it.each(cases)('%s → %s', async (name, code, range) => {
      const connect = forbiddenConnect();
      const error = await refusal(safeFetch(`https://${name}/data.csv`, policy(), { ...deps, connect }));
      expect([error.code, error.fields.address_class, error.fields.hop]).toEqual([code, range, 0]);
      expect(connect.calls).toEqual([]);
    });

    it('and literals of the same classes', async () => {
      const connect = forbiddenConnect();
      for (const [url, code] of [
        ['https://169.254.169.254/latest/meta-data/', 'DATASET_URL_METADATA_ADDRESS'],
        ['https://[fd00:ec2::254]/', 'DATASET_URL_METADATA_ADDRESS'],
        ['https://[::ffff:169.254.169.254]/', 'DATASET_URL_METADATA_ADDRESS'],
        ['https://192.168.1.1/', 'DATASET_URL_PRIVATE_ADDRESS'],
        ['https://[::ffff:10.0.0.1]/', 'DATASET_URL_PRIVATE_ADDRESS'],
        ['https://169.254.1.1/', 'DATASET_URL_LINK_LOCAL'],
        ['https://255.255.255.255/', 'DATASET_URL_RESERVED_ADDRESS'],
        ['https://0.0.0.0/', 'DATASET_URL_RESERVED_ADDRESS'],
        ['https://[::]/', 'DATASET_URL_RESERVED_ADDRESS'],
        ['https://[64:ff9b::7f00:1]/', 'DATASET_URL_RESERVED_ADDRESS'],
        ['https://[::7f00:1]/', 'DATASET_URL_RESERVED_ADDRESS'],
      ]) {
        expect([url, (await refusal(safeFetch(url!, policy(), { ...deps, connect }))).code]).toEqual([url, code]);
      }
      expect(connect.calls).toEqual([]);
    });

    it('a name that does not resolve → DATASET_URL_UNRESOLVABLE', async () => {
      const connect = forbiddenConnect();
      expect((await refusal(safeFetch('https://nowhere.test/', policy(), { ...deps, connect }))).code).toBe('DATASET_URL_UNRESOLVABLE');
      expect(connect.calls).toEqual([]);
    });
  });

  describe('checks every redirect hop again', () => {
    it('refuses a chain from an allowlisted server into another loopback port, at the hop, without reading it', async () => {
      const allow = parseAllowList([`127.0.0.1:${http.port}`]);
      const before = inner.requests.length;
      const error = await refusal(safeFetch(`http://127.0.0.1:${http.port}/to-inner`, policy({ allow, allowHttp: true }), deps));
      expect([error.code, error.fields.hop, error.message]).toEqual(['DATASET_URL_LOOPBACK', 2, expect.stringContaining('redirect 2')]);
      const mapped = await refusal(safeFetch(`http://127.0.0.1:${http.port}/to-inner-mapped`, policy({ allow, allowHttp: true }), deps));
      expect([mapped.code, mapped.fields.hop]).toEqual(['DATASET_URL_LOOPBACK', 1]);
      expect(inner.requests.length).toBe(before);
    });

    it('refuses a redirect to a name that resolves to the metadata address', async () => {
      const allow = parseAllowList([`127.0.0.1:${http.port}`]);
      const error = await refusal(safeFetch(`http://127.0.0.1:${http.port}/to-metadata-name`, policy({ allow, allowHttp: true }), deps));
      expect([error.code, error.fields.hop]).toEqual(['DATASET_URL_METADATA_ADDRESS', 1]);
    });

    it('refuses a redirect to something that is not a URL', async () => {
      const allow = parseAllowList([NAME]);
      const error = await refusal(safeFetch(`https://${NAME}:${https.port}/to-nowhere`, policy({ allow }), deps));
      expect([error.code, error.fields.hop]).toEqual(['DATASET_URL_INVALID', 1]);
    });

    it('never follows https → http, even where http is allowed', async () => {
      const allow = parseAllowList(['127.0.0.1', NAME]);
      const error = await refusal(safeFetch(`https://${NAME}:${https.port}/to-http`, policy({ allow, allowHttp: true }), deps));
      expect([error.code, error.fields.hop]).toEqual(['DATASET_URL_INSECURE_REDIRECT', 1]);
    });

    it('stops after maxRedirects', async () => {
      const allow = parseAllowList([NAME]);
      const error = await refusal(safeFetch(`https://${NAME}:${https.port}/loop`, policy({ allow, maxRedirects: 3 }), deps));
      expect([error.code, error.fields.hop]).toEqual(['DATASET_URL_TOO_MANY_REDIRECTS', 4]);
    });
  });

  describe('refuses other bad URLs and answers', () => {
    it('userinfo, without quoting it', async () => {
      const connect = forbiddenConnect();
      const error = await refusal(safeFetch(`https://user:TOKEN123@${NAME}/`, policy(), { ...deps, connect }));
      expect(error.code).toBe('DATASET_URL_CREDENTIALS');
      expect(JSON.stringify({ m: error.message, f: error.fields })).not.toContain('TOKEN123');
      expect(connect.calls).toEqual([]);
    });

    it('other schemes', async () => {
      for (const url of ['ftp://data.test/x', 'file:///etc/passwd']) {
        expect((await refusal(safeFetch(url, policy({ allowHttp: true }), deps))).code).toBe('DATASET_URL_SCHEME_FORBIDDEN');
      }
    });

    it('a host allowlisted on another port', async () => {
      const allow = parseAllowList([`${NAME}:1`]);
      expect((await refusal(safeFetch(`https://${NAME}:${https.port}/data.csv`, policy({ allow }), deps))).code).toBe('DATASET_URL_LOOPBACK');
    });

    it('a certificate the client does not trust', async () => {
      const allow = parseAllowList([NAME]);
      const error = await refusal(safeFetch(`https://${NAME}:${https.port}/data.csv`, policy({ allow }), { resolve: deps.resolve }));
      expect(error.code).toBe('DATASET_FETCH_FAILED');
    });

    it('HTTP errors', async () => {
      const allow = parseAllowList([NAME]);
      const error = await refusal(safeFetch(`https://${NAME}:${https.port}/nope`, policy({ allow }), deps));
      expect([error.code, error.message]).toEqual(['DATASET_FETCH_FAILED', expect.stringContaining('HTTP 404')]);
    });

    it('bodies over the cap, declared or streamed', async () => {
      const allow = parseAllowList([NAME]);
      for (const path of ['/huge', '/chunked-huge']) {
        expect((await refusal(safeFetch(`https://${NAME}:${https.port}${path}`, policy({ allow }), deps))).code).toBe('DATASET_TOO_LARGE');
      }
    });

    it('a server that stalls before the headers or in the body (idle timeout), or drips past the deadline', async () => {
      const allow = parseAllowList([NAME]);
      const url = (path: string) => `https://${NAME}:${https.port}${path}`;
      expect((await refusal(safeFetch(url('/stall-headers'), policy({ allow, idleTimeoutMs: 300 }), deps))).code).toBe('DATASET_FETCH_TIMEOUT');
      expect((await refusal(safeFetch(url('/stall-body'), policy({ allow, idleTimeoutMs: 300 }), deps))).code).toBe('DATASET_FETCH_TIMEOUT');
      expect((await refusal(safeFetch(url('/drip'), policy({ allow, timeoutMs: 500, idleTimeoutMs: 5000, maxBytes: 4096 }), deps))).code).toBe(
        'DATASET_FETCH_TIMEOUT',
      );
    });
  });
});
