/**
 * Real servers on 127.0.0.1 for the dataset-URL tests: a DNS server (UDP,
 * node:dgram + dns-packet) answering from a table, plain and TLS HTTP servers,
 * a self-signed certificate made by openssl for the test, and a loopback
 * port nothing listens on. Nothing here sends a packet anywhere but loopback.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';

export interface LocalDns {
  /** A dns.Resolver that asks only this server. */
  resolver: dns.Resolver;
  /** Every question asked, as "A name" / "AAAA name", in order. */
  queries: string[];
  /** Replaces a name's answers (how a rebinding attacker would). */
  set(name: string, addresses: string[]): void;
  close(): Promise<void>;
}

/** Answers A and AAAA questions from `records` (name → addresses); an unknown name gets NXDOMAIN. */
export async function startDns(records: Record<string, string[]>): Promise<LocalDns> {
  const table = new Map(Object.entries(records).map(([name, addresses]) => [name.toLowerCase(), addresses]));
  const queries: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (message, peer) => {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    if (!question) return;
    queries.push(`${question.type} ${question.name}`);
    const addresses = table.get(question.name.toLowerCase());
    const wanted = question.type === 'A' ? /^\d+\.\d+\.\d+\.\d+$/ : /:/;
    const answers = (addresses ?? [])
      .filter((a) => wanted.test(a))
      .map((data) => ({ type: question.type as 'A' | 'AAAA', name: question.name, ttl: 0, class: 'IN' as const, data }));
    const NXDOMAIN = 3;
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (addresses ? 0 : NXDOMAIN),
      questions: [question],
      answers,
    });
    socket.send(response, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${socket.address().port}`]);
  return {
    resolver,
    queries,
    set: (name, addresses) => void table.set(name.toLowerCase(), addresses),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export interface TestCertificate {
  key: string;
  cert: string;
}

/** A self-signed certificate for `name` and 127.0.0.1 (EC P-256, one day), made by openssl in a temporary directory. */
export function selfSignedCertificate(name: string): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-cert-'));
  try {
    // biome-ignore format: one openssl flag and its value a line
    const args = [
      'req', '-x509', '-nodes',
      '-newkey', 'ec',
      '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-days', '1',
      '-subj', `/CN=${name}`,
      '-addext', `subjectAltName=DNS:${name},IP:127.0.0.1`,
      '-keyout', join(dir, 'key.pem'),
      '-out', join(dir, 'cert.pem'),
    ];
    execFileSync('openssl', args, { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LocalServer {
  server: Server;
  port: number;
  /** Every request seen, as "METHOD path", with its Host header and (TLS) the SNI name. */
  requests: { line: string; host: string | undefined; servername: string | null }[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTP server (or HTTPS with `tls`) on 127.0.0.1 and a random port, recording what reaches it. */
export async function startServer(handler: Handler, tls?: TestCertificate): Promise<LocalServer> {
  const requests: LocalServer['requests'] = [];
  const record: Handler = (req, res) => {
    const servername = (req.socket as { servername?: string | false }).servername;
    requests.push({ line: `${req.method} ${req.url}`, host: req.headers.host, servername: typeof servername === 'string' ? servername : null });
    handler(req, res);
  };
  const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, record) : createHttpServer(record);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as { port: number }).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
