/**
 * GET a caller-supplied URL without letting the caller reach inside: every
 * hop (the URL and each redirect) is parsed and checked, its host resolved
 * once and every address classified (address-policy.ts), and the socket is
 * opened to exactly the address that was checked (no second lookup, so DNS
 * rebinding cannot switch it; SNI, certificate name and Host stay the URL's
 * name). Redirects are followed by hand, bounded, never https → http. The
 * body is capped while streaming; a total deadline and an idle timeout bound
 * the time. SECURITY: errors name the refusal class and the hop, never the
 * URL (its query or userinfo may hold a token) nor any body bytes.
 */
import { promises as dns } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { type AddressRefusal, type AllowList, addressAllowed, classify, hostAllowed, ipLiteral, isLocalhostName, ownAddresses } from './address-policy.js';

export interface FetchPolicy {
  /** Plain http accepted (an explicit server option); https → http redirects are refused regardless. */
  allowHttp: boolean;
  allow: AllowList;
  maxRedirects: number;
  /** The whole fetch, every hop and the body. */
  timeoutMs: number;
  /** Connecting, waiting for headers, and any pause in the body. */
  idleTimeoutMs: number;
  maxBytes: number;
}

/** Where a checked hop connects: the checked address, and the URL's name for SNI and the certificate check. */
export interface Target {
  address: string;
  family: 4 | 6;
  port: number;
  hostname: string;
  tls: boolean;
}

/** Resolves a name to all its addresses. */
export type Resolve = (hostname: string) => Promise<string[]>;
/** Opens a (TLS) connection to a checked target; must destroy it and reject when `signal` aborts. */
export type Connect = (target: Target, signal: AbortSignal) => Promise<Duplex>;

export interface FetchDeps {
  resolve?: Resolve;
  connect?: Connect;
  /** The caller's own stop (a draining executor): ends the fetch at once, as the deadline would. */
  stop?: AbortSignal;
}

/** Which error each address refusal raises. */
const REFUSAL_CODES: Record<AddressRefusal, ErrorCode> = {
  loopback: 'DATASET_URL_LOOPBACK',
  private: 'DATASET_URL_PRIVATE_ADDRESS',
  'link-local': 'DATASET_URL_LINK_LOCAL',
  metadata: 'DATASET_URL_METADATA_ADDRESS',
  reserved: 'DATASET_URL_RESERVED_ADDRESS',
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const FIELD = 'body.dataset.url';

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address. */
export const systemResolve: Resolve = async (hostname) => (await dns.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** A resolver through a given dns.Resolver (A and AAAA): for tests against a local DNS server, and for operators who pin one. */
export function resolverResolve(resolver: dns.Resolver): Resolve {
  return async (hostname) => {
    const answers = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const addresses = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
    if (addresses.length === 0 && answers[0].status === 'rejected') throw answers[0].reason;
    return addresses;
  };
}

/** Connects a plain or TLS socket to the checked address itself; `ca` replaces the trusted roots (tests only). */
export function directConnect(options: { ca?: string | Buffer } = {}): Connect {
  return (target, signal) =>
    new Promise<Duplex>((resolve, reject) => {
      const name = ipLiteral(target.hostname) === null ? target.hostname.replace(/\.$/, '') : undefined;
      const socket: Socket = target.tls
        ? tlsConnect({ host: target.address, port: target.port, servername: name, ca: options.ca, ALPNProtocols: ['http/1.1'] })
        : netConnect({ host: target.address, port: target.port, family: target.family });
      const abort = () => socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal.addEventListener('abort', abort, { once: true });
      socket.once(target.tls ? 'secureConnect' : 'connect', () => {
        signal.removeEventListener('abort', abort);
        resolve(socket);
      });
      socket.once('error', (error) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      });
    });
}

export async function safeFetch(rawUrl: string, policy: FetchPolicy, deps: FetchDeps = {}): Promise<Uint8Array> {
  const resolve = deps.resolve ?? systemResolve;
  const connect = deps.connect ?? directConnect();
  const deadline = deps.stop ? AbortSignal.any([AbortSignal.timeout(policy.timeoutMs), deps.stop]) : AbortSignal.timeout(policy.timeoutMs);
  let url = parseHop(rawUrl, 0, policy, null);
  for (let hop = 0; ; hop++) {
    const targets = await checkedTargets(url, hop, policy, resolve, deadline);
    const idle = { fired: false };
    const response = await get(url, targets, connect, { deadline, idleMs: policy.idleTimeoutMs, idle }, hop);
    const location = response.headers.location;
    if (REDIRECTS.has(response.statusCode ?? 0) && location) {
      response.destroy();
      if (hop + 1 > policy.maxRedirects) {
        throw refused('DATASET_URL_TOO_MANY_REDIRECTS', `dataset.url redirects more than ${policy.maxRedirects} times`, hop + 1);
      }
      url = parseHop(location, hop + 1, policy, url);
      continue;
    }
    if (!response.statusCode || response.statusCode < 200 || response.statusCode > 299) {
      response.destroy();
      throw failed(`HTTP ${response.statusCode}`, hop);
    }
    return readCapped(response, policy.maxBytes, { deadline, idle }, hop);
  }
}

/** Parses one hop's URL (a redirect's Location relative to the previous hop) and applies the rules that need no resolution. */
function parseHop(raw: string, hop: number, policy: FetchPolicy, previous: URL | null): URL {
  let url: URL;
  try {
    url = previous ? new URL(raw, previous) : new URL(raw);
  } catch {
    throw refused('DATASET_URL_INVALID', `dataset.url${where(hop)} is not a valid URL`, hop);
  }
  if (previous?.protocol === 'https:' && url.protocol === 'http:') {
    throw refused('DATASET_URL_INSECURE_REDIRECT', `dataset.url redirects from https to plain http${where(hop)}`, hop);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw refused('DATASET_URL_SCHEME_FORBIDDEN', `dataset.url${where(hop)} must be https${policy.allowHttp ? ' or http' : ''}`, hop);
  }
  if (url.username !== '' || url.password !== '') {
    throw refused('DATASET_URL_CREDENTIALS', `dataset.url${where(hop)} carries credentials (user:password@); send none`, hop);
  }
  return url;
}

/** Resolves the hop's host once and checks every address; the checked addresses are the only ones ever connected to. */
async function checkedTargets(url: URL, hop: number, policy: FetchPolicy, resolve: Resolve, deadline: AbortSignal): Promise<Target[]> {
  const tls = url.protocol === 'https:';
  const port = url.port === '' ? (tls ? 443 : 80) : Number(url.port);
  const byName = hostAllowed(policy.allow, url.hostname, port);
  if (!byName && isLocalhostName(url.hostname)) throw addressRefused('loopback', 'localhost', hop);
  const literal = ipLiteral(url.hostname);
  let addresses: string[];
  if (literal !== null) {
    addresses = [literal];
  } else {
    try {
      addresses = await untilDeadline(resolve(url.hostname), deadline);
    } catch (cause) {
      if (deadline.aborted) throw timedOut(hop);
      throw refused('DATASET_URL_UNRESOLVABLE', `dataset.url's host${where(hop)} does not resolve`, hop, cause);
    }
    if (addresses.length === 0) throw refused('DATASET_URL_UNRESOLVABLE', `dataset.url's host${where(hop)} does not resolve`, hop);
  }
  const own = ownAddresses();
  return addresses.map((address) => {
    const checked = classify(address, own);
    if (checked.refusal !== null && !byName && !addressAllowed(policy.allow, address)) throw addressRefused(checked.refusal, checked.range, hop);
    return { address, family: checked.family, port, hostname: url.hostname, tls };
  });
}

/** The hop's clocks: the whole fetch's deadline, and the idle timeout (which, once fired, explains any later socket error). */
interface Clocks {
  deadline: AbortSignal;
  idle: { fired: boolean };
}

/** Sends the GET over a socket to the first checked address that connects; resolves with the response head. */
async function get(url: URL, targets: Target[], connect: Connect, clocks: Clocks & { idleMs: number }, hop: number): Promise<IncomingMessage> {
  const { deadline, idleMs } = clocks;
  let socket: Duplex | null = null;
  let lastError: unknown;
  for (const target of targets) {
    try {
      socket = await connect(target, AbortSignal.any([deadline, AbortSignal.timeout(idleMs)]));
      break;
    } catch (cause) {
      if (deadline.aborted) throw timedOut(hop, cause);
      lastError = cause;
    }
  }
  if (!socket) throw failed('connection failed or timed out', hop, lastError);
  const connected = socket;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = httpRequest({
      method: 'GET',
      path: `${url.pathname}${url.search}`,
      headers: { host: url.host, accept: '*/*', 'accept-encoding': 'identity', 'user-agent': 'ephemera-dataset-fetch', connection: 'close' },
      createConnection: () => connected as Socket,
      signal: deadline,
    });
    // The socket's inactivity timer: before the headers and between body chunks alike.
    request.setTimeout(idleMs, () => {
      clocks.idle.fired = true;
      request.destroy(new Error('idle timeout'));
    });
    request.once('response', resolve);
    request.once('error', (cause) => reject(deadline.aborted || clocks.idle.fired ? timedOut(hop, cause) : failed('the request failed', hop, cause)));
    request.end();
  });
}

/** Reads the body into memory, never past maxBytes; on any failure the bytes read so far are zeroed. */
async function readCapped(response: IncomingMessage, maxBytes: number, { deadline, idle }: Clocks, hop: number): Promise<Uint8Array> {
  const declared = Number(response.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) {
    response.destroy();
    throw tooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const abort = () => response.destroy(new Error('deadline'));
  deadline.addEventListener('abort', abort, { once: true });
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        response.destroy();
        throw tooLarge(maxBytes);
      }
      chunks.push(chunk);
    }
    if (!response.complete) throw failed('the transfer broke off', hop);
  } catch (cause) {
    for (const c of chunks) c.fill(0);
    if (cause instanceof EphemeraError) throw cause;
    if (deadline.aborted || idle.fired) throw timedOut(hop, cause);
    throw failed('the transfer broke off', hop, cause);
  } finally {
    deadline.removeEventListener('abort', abort);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
    chunk.fill(0);
  }
  return out;
}

function untilDeadline<T>(work: Promise<T>, deadline: AbortSignal): Promise<T> {
  if (deadline.aborted) return Promise.reject(deadline.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(deadline.reason);
    deadline.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', abort));
  });
}

const where = (hop: number) => (hop === 0 ? '' : ` (redirect ${hop})`);

function refused(code: ErrorCode, message: string, hop: number, cause?: unknown): EphemeraError {
  return new EphemeraError(code, message, { cause: scrub(cause), fields: { field: FIELD, hop } });
}

const REFUSAL_WORDS: Record<AddressRefusal, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address',
  metadata: 'a cloud metadata address',
  reserved: 'a reserved or non-unicast address',
};

function addressRefused(refusal: AddressRefusal, range: string, hop: number): EphemeraError {
  return new EphemeraError(REFUSAL_CODES[refusal], `dataset.url${where(hop)} leads to ${REFUSAL_WORDS[refusal]}, which this server does not fetch from`, {
    fields: { field: FIELD, hop, address_class: range },
  });
}

function failed(why: string, hop: number, cause?: unknown): EphemeraError {
  return new EphemeraError('DATASET_FETCH_FAILED', `dataset.url${where(hop)} could not be fetched: ${why}`, {
    cause: scrub(cause),
    fields: { field: FIELD, hop },
  });
}

function timedOut(hop: number, cause?: unknown): EphemeraError {
  return new EphemeraError('DATASET_FETCH_TIMEOUT', `dataset.url${where(hop)} did not answer in time`, { cause: scrub(cause), fields: { field: FIELD, hop } });
}

export function tooLarge(maxBytes: number): EphemeraError {
  return new EphemeraError('DATASET_TOO_LARGE', `the dataset exceeds ${maxBytes} bytes`, { fields: { field: 'body.dataset', max_bytes: maxBytes } });
}

/** A cause reduced to its code: system errors may quote the host, TLS errors the certificate; never the URL, but keep it minimal. */
function scrub(cause: unknown): Error | undefined {
  if (cause === undefined) return undefined;
  const code = (cause as { code?: unknown })?.code;
  return new Error(typeof code === 'string' ? code : cause instanceof Error ? cause.name : 'error');
}
