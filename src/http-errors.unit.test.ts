import { describe, expect, it } from 'vitest';
import { HTTP_STATUS_BY_CODE, toHttpError } from './http-errors.js';

describe('HTTP error registry', () => {
  it('is pinned: a code is added or changed only together with this list', () => {
    expect(HTTP_STATUS_BY_CODE).toMatchInlineSnapshot(`
      {
        "ATTEST_UNAVAILABLE": 503,
        "AUTH_REQUIRED": 401,
        "CAPACITY_EXHAUSTED": 503,
        "CAPACITY_QUEUE_TIMEOUT": 503,
        "CAPACITY_REQUEST_TOO_LARGE": 422,
        "CERTIFICATE_ID_INVALID": 400,
        "CERTIFICATE_NOT_FOUND": 404,
        "CERTIFICATE_REJECTED": 500,
        "DATASET_EMPTY": 422,
        "DATASET_FETCH_FAILED": 422,
        "DATASET_FETCH_TIMEOUT": 422,
        "DATASET_INVALID_BASE64": 400,
        "DATASET_TOO_LARGE": 413,
        "DATASET_URL_CREDENTIALS": 422,
        "DATASET_URL_INSECURE_REDIRECT": 422,
        "DATASET_URL_INVALID": 400,
        "DATASET_URL_LINK_LOCAL": 422,
        "DATASET_URL_LOOPBACK": 422,
        "DATASET_URL_METADATA_ADDRESS": 422,
        "DATASET_URL_PRIVATE_ADDRESS": 422,
        "DATASET_URL_RESERVED_ADDRESS": 422,
        "DATASET_URL_SCHEME_FORBIDDEN": 422,
        "DATASET_URL_TOO_MANY_REDIRECTS": 422,
        "DATASET_URL_UNRESOLVABLE": 422,
        "EXECUTION_ID_INVALID": 400,
        "EXECUTION_NOT_FOUND": 404,
        "EXECUTION_REGISTRY_FULL": 503,
        "EXECUTION_STREAMS_BUSY": 503,
        "INTERNAL": 500,
        "LLM_API_KEY_REQUIRED": 422,
        "LOG_APPEND_FAILED": 503,
        "LOG_UNAVAILABLE": 503,
        "NOT_FOUND": 404,
        "PROJECTIONS_UNAVAILABLE": 503,
        "REQUEST_BODY_TOO_LARGE": 413,
        "REQUEST_FORBIDDEN_KEY": 400,
        "REQUEST_INVALID": 400,
        "REQUEST_LAST_EVENT_ID_INVALID": 400,
        "REQUEST_MALFORMED_JSON": 400,
        "REQUEST_TOO_DEEP": 400,
        "REQUEST_UNSUPPORTED_MEDIA_TYPE": 415,
        "SANDBOX_BWRAP_MISSING": 503,
        "SANDBOX_LIMITS_MODE_UNAVAILABLE": 503,
        "SANDBOX_LIMIT_UNAVAILABLE": 503,
        "SANDBOX_NAMESPACES_UNAVAILABLE": 503,
        "SEALED_DECRYPT_FAILED": 400,
        "SEALED_KEY_EXPIRED": 410,
        "SEALED_KEY_UNKNOWN": 421,
        "SEALED_PAYLOAD_INVALID": 400,
        "SEALED_REPLAY": 409,
        "SEALED_REQUEST_MALFORMED": 400,
        "SEALED_REQUIRED": 403,
        "SEALED_SUITE_MISMATCH": 400,
        "SERVER_DRAINING": 503,
        "TLOG_NOT_LOGGED": 404,
      }
    `);
  });

  describe('when the error is a 5xx', () => {
    it('answers a fixed text, never the error message', () => {
      const { status, body } = toHttpError('LOG_UNAVAILABLE', 'broker 10.0.0.1:9092 said SECRET', 'x');
      expect(status).toBe(503);
      expect(JSON.stringify(body)).not.toContain('SECRET');
      expect(body.error.code).toBe('LOG_UNAVAILABLE');
    });
  });

  describe('when the server is overloaded or draining (a 503 that is not a broken part)', () => {
    it("answers the registry's fixed words for the code, never the error message", () => {
      for (const code of ['CAPACITY_EXHAUSTED', 'CAPACITY_QUEUE_TIMEOUT', 'SERVER_DRAINING']) {
        const { status, body } = toHttpError(code, 'queue of 10.0.0.1 SECRET', 'x');
        expect(status).toBe(503);
        expect(body).toEqual({ error: { code, message: expect.stringContaining('Retry-After') } });
        expect(JSON.stringify(body)).not.toContain('SECRET');
      }
    });
  });

  describe('when the code is unknown', () => {
    it('is an INTERNAL 500 with a fixed text', () => {
      const { status, body } = toHttpError('SOMETHING_ODD', 'stack trace with data', undefined);
      expect(status).toBe(500);
      expect(body).toEqual({ error: { code: 'INTERNAL', message: expect.not.stringContaining('data') } });
    });
  });

  describe('when the error is a 4xx', () => {
    it('keeps our message and the field path', () => {
      expect(toHttpError('REQUEST_INVALID', 'body.sandbox.x: unknown field', 'body.sandbox.x')).toEqual({
        status: 400,
        body: { error: { code: 'REQUEST_INVALID', message: 'body.sandbox.x: unknown field', field: 'body.sandbox.x' } },
      });
    });

    it('keeps the problems of an invalid request, and never sends them with a 5xx', () => {
      const problems = [{ path: 'sandbox.x', message: 'is not a known field', code: 'REQUEST_INVALID' }];
      expect(toHttpError('REQUEST_INVALID', 'sandbox.x: is not a known field', 'body.sandbox.x', problems).body.error.problems).toEqual(problems);
      expect(toHttpError('LOG_UNAVAILABLE', 'x', undefined, problems).body.error).not.toHaveProperty('problems');
    });
  });
});
