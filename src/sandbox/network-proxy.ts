/**
 * The only way out of a sandbox, and only when the request allows hosts: an
 * HTTP proxy on a unix socket bound into the sandbox (the supervisor forwards
 * 127.0.0.1:PROTOCOL.proxy_port inside to it). It enforces the `host:port` allowlist and
 * records every attempt, allowed or denied, with bytes each way.
 *   CONNECT host:port HTTP/1.1            (HTTPS and any TCP)
 *   GET http://host:port/path HTTP/1.1    (plain HTTP, absolute form)
 * SECURITY: names are matched exactly as written in the allowlist and resolved
 * here, outside the sandbox; nothing else is reachable (no network namespace
 * device but loopback).
 */
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkObservation } from './types.js';

const MAX_HEAD = 8192;

export interface NetworkProxy {
  socketPath: string;
  /** Attempts so far, in order; an entry's byte counts grow until its connection closes. */
  attempts: NetworkObservation[];
  /** Resolves once every attempt from index `from` has closed (or after `timeoutMs`). */
  settled(from: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** `owner`: the host uid the sandbox runs as, when it is not ours. */
export async function startNetworkProxy(allow: readonly string[], owner?: number): Promise<NetworkProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-proxy-'));
  const socketPath = join(dir, 'proxy.sock');
  const attempts: NetworkObservation[] = [];
  const open: Promise<void>[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD) client.destroy();
        return;
      }
      client.off('data', onData);
      const requestLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const target = parseTarget(requestLine);
      if (!target) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      const record: NetworkObservation = {
        host: target.host,
        port: target.port,
        allowed: allow.includes(`${target.host}:${target.port}`),
        bytes_out: 0,
        bytes_in: 0,
      };
      attempts.push(record);
      if (!record.allowed) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      open.push(relay(client, record, target, target.connect ? head.subarray(end + 4) : head));
    };
    client.on('data', onData);
    client.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  // The sandbox connects as `owner` (the host uid it runs as, when not ours): only it may.
  if (owner !== undefined) for (const path of [dir, socketPath]) chownSync(path, owner, owner);

  return {
    socketPath,
    attempts,
    async settled(from, timeoutMs = 1000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(open.slice(from)), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function parseTarget(line: string): { host: string; port: number; connect: boolean } | null {
  const connectMatch = /^CONNECT ([A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]+\]):(\d{1,5}) HTTP\/1\.[01]$/.exec(line);
  if (connectMatch) return { host: connectMatch[1]!, port: Number(connectMatch[2]), connect: true };
  const absolute = /^[A-Z]+ http:\/\/([A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?(?:\/\S*)? HTTP\/1\.[01]$/.exec(line);
  if (absolute) return { host: absolute[1]!, port: Number(absolute[2] ?? 80), connect: false };
  return null;
}

function relay(client: Socket, record: NetworkObservation, target: { host: string; port: number; connect: boolean }, firstBytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const upstream = connect(target.port, target.host.replace(/^\[|\]$/g, ''));
    const finish = () => {
      client.destroy();
      upstream.destroy();
      resolve();
    };
    upstream.on('connect', () => {
      if (target.connect) client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (firstBytes.length) {
        record.bytes_out += firstBytes.length;
        upstream.write(firstBytes);
      }
      client.on('data', (chunk: Buffer) => {
        record.bytes_out += chunk.length;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        record.bytes_in += chunk.length;
        client.write(chunk);
      });
    });
    upstream.on('error', () => {
      if (target.connect && !client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      finish();
    });
    upstream.on('close', finish);
    client.on('close', finish);
    client.on('error', finish);
  });
}
