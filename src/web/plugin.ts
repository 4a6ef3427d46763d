/**
 * Serves the certificate browser (web/): the page shell for `/`, `/c/:id` and
 * `/verify`, and its assets. The script is bundled with esbuild on first
 * request and kept in memory, so a fresh checkout needs no build step.
 * SECURITY: a strict Content-Security-Policy; the page renders untrusted
 * certificates as text only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { build } from 'esbuild';

export const WEB_ROOT = join(import.meta.dirname, '../../web');
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

let bundle: Promise<string> | null = null;

/** The browser bundle: the UI and the project's own isomorphic verifier. */
export function webBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [join(WEB_ROOT, 'src/main.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, write: false, legalComments: 'none',
  }).then((result) => result.outputFiles[0]!.text).catch((error) => {
    bundle = null;
    throw error;
  });
  return bundle;
}

export const webRoutes: FastifyPluginAsync = async (app) => {
  const page = readFileSync(join(WEB_ROOT, 'index.html'), 'utf8');
  const css = readFileSync(join(WEB_ROOT, 'style.css'), 'utf8');
  const send = (reply: FastifyReply, type: string, body: string) =>
    reply.header('content-type', type).header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').send(body);
  const shell = { schema: { hide: true } };
  app.get('/', shell, (_req, reply) => send(reply, 'text/html; charset=utf-8', page));
  app.get('/verify', shell, (_req, reply) => send(reply, 'text/html; charset=utf-8', page));
  app.get('/c/:id', shell, (_req, reply) => send(reply, 'text/html; charset=utf-8', page));
  app.get('/assets/style.css', shell, (_req, reply) => send(reply, 'text/css; charset=utf-8', css));
  app.get('/assets/app.js', shell, async (_req, reply) => send(reply, 'text/javascript; charset=utf-8', await webBundle()));
};
