/**
 * The OpenAPI document the real app serves (GET /docs/json): every API route
 * with its success and error responses, each with a real schema and its own
 * description (no "Default Response"), and the execute token's bearer scheme.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createServices, type Services } from './services.js';

/** Every API route; the human pages (/, /c/:id, /e/:id, /verify, /assets/*) and the docs UI are not API and stay out. */
const API_ROUTES = [
  'post /execute',
  'get /executions/{id}',
  'get /executions/{id}/events',
  'get /certificate/{id}',
  'get /certificate/{id}/events',
  'get /certificate/{id}/verify',
  'get /certificate/{id}/replay',
  'get /.well-known/ephemera-key.json',
  'get /.well-known/ephemera-seal-key.json',
  'get /certificates',
  'get /analytics/executions-per-day',
  'get /analytics/tokens-by-model',
  'get /analytics/tool-usage',
  'get /analytics/durations',
  'get /analytics/failures',
  'get /health',
  'get /ready',
  'get /metrics',
  'get /tlog/checkpoint',
  'get /tlog/tile/{*}',
  'get /tlog/leaves/{certificate_id}',
  'get /tlog/history/{fingerprint}',
  'get /.well-known/ephemera-log-key.json',
];

interface Response {
  description?: string;
  content?: Record<string, { schema?: Record<string, unknown> }>;
}
type Operation = { responses: Record<string, Response>; security?: Record<string, string[]>[] };
type Document = { paths: Record<string, Record<string, Operation>>; components?: { securitySchemes?: Record<string, Record<string, unknown>> } };

describe('the OpenAPI document of the real app', () => {
  let dir: string;
  let services: Services;
  let app: FastifyInstance;
  let doc: Document;
  let raw: string;
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => [`${method} ${path}`, op] as const));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-openapi-'));
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir }));
    app = await buildApp(services);
    const response = await app.inject({ url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    raw = response.body;
    doc = response.json();
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes exactly the API routes, /health and /ready included', () => {
    expect(operations().map(([name]) => name)).toEqual(expect.arrayContaining(API_ROUTES));
    expect(operations()).toHaveLength(API_ROUTES.length);
  });

  it.each(API_ROUTES)('gives %s a success response and its error responses, each described and with a JSON schema', (name) => {
    const op = new Map<string, Operation>(operations()).get(name)!;
    const statuses = Object.keys(op.responses);
    expect(statuses.filter((s) => /^2\d\d$/.test(s)).length, name).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => /^[45]\d\d$/.test(s)).length, name).toBeGreaterThanOrEqual(1);
    expect(statuses, `${name}: every route can fail internally`).toContain('500');
    for (const [status, response] of Object.entries(op.responses)) {
      expect(response.description, `${name} ${status}`).toMatch(/\w/);
      expect(response.description, `${name} ${status}`).not.toBe('Default Response');
      if (name === 'get /metrics' && status === '200') {
        // Prometheus' text format, not JSON.
        expect(response.content?.['text/plain']?.schema, `${name} ${status}`).toEqual({ type: 'string' });
        continue;
      }
      if (name === 'get /tlog/checkpoint' && status === '200') {
        // A C2SP signed note, as tlog clients and witnesses read it.
        expect(response.content?.['text/plain']?.schema, `${name} ${status}`).toEqual({ type: 'string' });
        continue;
      }
      if (name === 'get /tlog/tile/{*}' && status === '200') {
        // Tiles and entry bundles are bytes (C2SP tlog-tiles).
        expect(Object.keys(response.content ?? {})).toEqual(['application/octet-stream']);
        continue;
      }
      if (name === 'get /executions/{id}/events' && status === '200') {
        // Server-Sent Events: a text stream, described as such.
        expect(Object.keys(response.content ?? {})).toEqual(['text/event-stream']);
        continue;
      }
      const schema = response.content?.['application/json']?.schema;
      expect(schema, `${name} ${status}`).toEqual(expect.objectContaining({ type: 'object', properties: expect.any(Object) }));
      if (/^[45]/.test(status) && !(name === 'get /ready' && status === '503')) {
        // The one error body of docs/errors.md.
        expect((schema!.properties as { error: { required: string[] } }).error.required, `${name} ${status}`).toEqual(['code', 'message']);
      }
    }
  });

  it('has no placeholder "Default Response" anywhere', () => {
    expect(raw).not.toContain('Default Response');
  });

  it('declares the execute token as a bearer scheme, required by POST /execute and by no read route', () => {
    expect(doc.components?.securitySchemes?.executeToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/execute']!.post!.security).toEqual([{ executeToken: [] }]);
    expect(
      operations()
        .filter(([, op]) => op.security !== undefined)
        .map(([name]) => name),
    ).toEqual(['post /execute']);
  });

  it('documents POST /execute with both certificate URLs and the errors its body can cause', () => {
    const op = doc.paths['/execute']!.post!;
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '409', '410', '413', '415', '421', '422', '500', '503']));
    // Both bodies described: JSON, and the sealed request's bytes.
    const content = (op as unknown as { requestBody: { content: Record<string, unknown> } }).requestBody.content;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'application/vnd.ephemera.sealed-request']);
    const success = op.responses['200']!.content!['application/json']!.schema as { required: string[] };
    expect(success.required).toEqual(expect.arrayContaining(['certificate_url', 'certificate_json_url']));
    // The overload and shutdown refusals say when to come back.
    expect(op.responses['503']!.description).toMatch(/CAPACITY_EXHAUSTED.*SERVER_DRAINING/s);
    expect((op.responses['503'] as { headers?: Record<string, unknown> }).headers).toHaveProperty('Retry-After');
    expect(op.responses['422']!.description).toContain('CAPACITY_REQUEST_TOO_LARGE');
  });
});
