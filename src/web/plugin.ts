/**
 * Serves the certificate browser (web/): the page shell for `/`, `/c/:id`,
 * `/e/:id` (a run watched live), `/history/:fingerprint` (a computation's runs in the transparency log), `/verify`, `/rows` (a row proof checked) and `/submit` (a sealed submission), and its assets. The scripts are bundled with esbuild on first
 * request and kept in memory, so a fresh checkout needs no build step.
 * SECURITY: a strict Content-Security-Policy; the page renders untrusted
 * certificates as text only.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { build } from 'esbuild';
import { CERTIFICATE_ID_PATTERN } from '../verify/index.js';
import { HASH_PATTERN, RUN_ID_PATTERN } from '../events/index.js';

export const WEB_ROOT = join(import.meta.dirname, '../../web');
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The browser entries: the UI with the project's own verifier, and what it loads on demand: the TDX verifier, the sealed-result opener, the sealed-submission page. */
export type WebEntry = 'main' | 'tdx' | 'seal' | 'submit';
/** How every browser bundle is built (the page's, and bench/sealed.ts's measuring entry). */
export const BROWSER_BUILD = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
  legalComments: 'none',
} as const;
const bundles = new Map<WebEntry, Promise<string>>();

const WEB_ENTRIES: readonly WebEntry[] = ['main', 'tdx', 'seal', 'submit'];
/** Where a reproducible bundle keeps the scripts it built (docs/reproducible-builds.md §2): served as they are, so the hash covers them. */
const PREBUILT = join(WEB_ROOT, 'dist');

export function webBundle(entry: WebEntry = 'main'): Promise<string> {
  let bundle = bundles.get(entry);
  const prebuilt = join(PREBUILT, `${entry}.js`);
  if (!bundle && existsSync(prebuilt)) {
    bundle = readFile(prebuilt, 'utf8');
    bundles.set(entry, bundle);
  }
  if (!bundle) {
    bundle = build({
      ...BROWSER_BUILD,
      entryPoints: [join(WEB_ROOT, `src/${entry}.ts`)],
    })
      .then((result) => result.outputFiles[0]!.text)
      .catch((error) => {
        bundles.delete(entry);
        throw error;
      });
    bundles.set(entry, bundle);
  }
  return bundle;
}

/**
 * Builds every browser script into web/dist/ (the bundle script runs it in its scratch copy, never in a checkout).
 * @public (called by name from src/build/bundle.ts, in the scratch copy's dist/)
 */
export async function writeWebBundles(): Promise<void> {
  mkdirSync(PREBUILT, { recursive: true });
  for (const entry of WEB_ENTRIES) writeFileSync(join(PREBUILT, `${entry}.js`), await webBundle(entry));
}

export interface WebDeps {
  /** Whether the log holds this certificate (a lookup failure counts as yes: the page then says what went wrong). */
  certificateExists: (id: string) => Promise<boolean>;
}

export const webRoutes =
  (deps: WebDeps): FastifyPluginAsync =>
  async (app) => {
    const page = readFileSync(join(WEB_ROOT, 'index.html'), 'utf8');
    const css = readFileSync(join(WEB_ROOT, 'style.css'), 'utf8');
    const send = (reply: FastifyReply, type: string, body: string) =>
      reply
        .header('content-type', type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(body);
    const shell = { schema: { hide: true } };
    app.get('/', shell, (_req, reply) => send(reply, 'text/html; charset=utf-8', page));
    app.get('/verify', shell, (_req, reply) => send(reply, 'text/html; charset=utf-8', page));
    app.get('/submit', shell, (_req, reply) => send(reply, 'text/html; charset=utf-8', page));
    app.get('/rows', shell, (_req, reply) => send(reply, 'text/html; charset=utf-8', page));
    // The page loads the certificate itself; the status says at once whether there is one, so a link to nothing is a 404.
    app.get<{ Params: { id: string } }>('/c/:id', shell, async (req, reply) => {
      const found = CERTIFICATE_ID_PATTERN.test(req.params.id) && (await deps.certificateExists(req.params.id).catch(() => true));
      return send(reply.status(found ? 200 : 404), 'text/html; charset=utf-8', page);
    });
    // A run watched live (web/src/watch.ts): the page follows its event stream, which says itself whether there is such a run.
    app.get<{ Params: { id: string } }>('/e/:id', shell, (req, reply) =>
      send(reply.status(RUN_ID_PATTERN.test(req.params.id) ? 200 : 404), 'text/html; charset=utf-8', page),
    );
    // A fingerprint's history (web/src/history.ts): the page reads and checks GET /tlog/history/:fingerprint itself.
    app.get<{ Params: { fingerprint: string } }>('/history/:fingerprint', shell, (req, reply) =>
      send(reply.status(HASH_PATTERN.test(req.params.fingerprint) ? 200 : 404), 'text/html; charset=utf-8', page),
    );
    app.get('/assets/style.css', shell, (_req, reply) => send(reply, 'text/css; charset=utf-8', css));
    app.get('/assets/app.js', shell, async (_req, reply) => send(reply, 'text/javascript; charset=utf-8', await webBundle('main')));
    app.get('/assets/tdx.js', shell, async (_req, reply) => send(reply, 'text/javascript; charset=utf-8', await webBundle('tdx')));
    app.get('/assets/seal.js', shell, async (_req, reply) => send(reply, 'text/javascript; charset=utf-8', await webBundle('seal')));
    app.get('/assets/submit.js', shell, async (_req, reply) => send(reply, 'text/javascript; charset=utf-8', await webBundle('submit')));
  };
