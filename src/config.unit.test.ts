import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from './config.js';

describe('loadConfig', () => {
  describe('when the environment is empty', () => {
    it('gives the embedded defaults, frozen', () => {
      const config = loadConfig({});
      expect(config).toMatchObject({ log: 'sqlite', tee: 'auto', clickhouseUrl: null, kafkaTopic: 'ephemera.events', port: 8080, anthropicApiKey: null });
      expect(config.dataDir).toMatch(/\.ephemera$/);
      expect(Object.isFrozen(config)).toBe(true);
    });
  });

  describe('when a variable is invalid', () => {
    it.each([
      [{ EPHEMERA_LOG: 'postgres' }, 'EPHEMERA_LOG'],
      [{ EPHEMERA_TEE: 'sgx' }, 'EPHEMERA_TEE'],
      [{ PORT: '99999' }, 'PORT'],
      [{ PORT: '80a' }, 'PORT'],
      [{ CLICKHOUSE_URL: 'file:///etc/passwd' }, 'CLICKHOUSE_URL'],
      [{ EPHEMERA_EXECUTE_TOKEN: 'short' }, 'EPHEMERA_EXECUTE_TOKEN'],
      [{ EPHEMERA_DATASET_URL_ALLOW: 'data.internal,10.0.0.0/33' }, 'EPHEMERA_DATASET_URL_ALLOW'],
      [{ EPHEMERA_DATASET_URL_ALLOW: 'http://data.internal' }, 'EPHEMERA_DATASET_URL_ALLOW'],
      [{ EPHEMERA_DATASET_URL_ALLOW_HTTP: 'yes' }, 'EPHEMERA_DATASET_URL_ALLOW_HTTP'],
      [{ EPHEMERA_DATASET_MAX_REDIRECTS: '21' }, 'EPHEMERA_DATASET_MAX_REDIRECTS'],
      [{ EPHEMERA_TLOG: 'leader' }, 'EPHEMERA_TLOG'],
      [{ EPHEMERA_TLOG_INTERVAL_MS: '5' }, 'EPHEMERA_TLOG_INTERVAL_MS'],
      [{ EPHEMERA_TLOG_BATCH_MAX: '0' }, 'EPHEMERA_TLOG_BATCH_MAX'],
      [{ EPHEMERA_TLOG_ORIGIN: 'a log' }, 'EPHEMERA_TLOG_ORIGIN'],
      [{ EPHEMERA_TLOG_ORIGIN: 'a+b' }, 'EPHEMERA_TLOG_ORIGIN'],
    ])('%j is CONFIG_INVALID naming %s', (env, variable) => {
      expect(() => loadConfig(env)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', fields: { variable } }));
    });
  });

  describe('the transparency log', () => {
    it('sequences on the embedded log and follows on Kafka by default, once a second, 4096 leaves a round', () => {
      expect(loadConfig({})).toMatchObject({ tlog: 'sequencer', tlogIntervalMs: 1000, tlogBatchMax: 4096, tlogOrigin: null, tlogWitnesses: null });
      expect(loadConfig({ EPHEMERA_LOG: 'kafka' }).tlog).toBe('follower');
      expect(loadConfig({ EPHEMERA_LOG: 'kafka', EPHEMERA_TLOG: 'sequencer', EPHEMERA_TLOG_ORIGIN: 'log.example/a' })).toMatchObject({
        tlog: 'sequencer',
        tlogOrigin: 'log.example/a',
      });
      expect(loadConfig({ EPHEMERA_TLOG: 'off' }).tlog).toBe('off');
    });
  });

  describe('when dataset URLs are configured', () => {
    it('is https only, public addresses only, by default; the allowlist and http are explicit', () => {
      expect(loadConfig({})).toMatchObject({ datasetUrlAllow: [], datasetUrlAllowHttp: false, datasetMaxRedirects: 5 });
      const config = loadConfig({ EPHEMERA_DATASET_URL_ALLOW: 'data.internal:8443, 10.0.0.0/8,[fd00::1]:443', EPHEMERA_DATASET_URL_ALLOW_HTTP: 'true' });
      expect(config).toMatchObject({ datasetUrlAllow: ['data.internal:8443', '10.0.0.0/8', '[fd00::1]:443'], datasetUrlAllowHttp: true });
    });
  });

  describe('when a flag overrides a variable', () => {
    it('wins', () => expect(loadConfig({ PORT: '1' }, { port: '2' }).port).toBe(2));
  });

  describe('when described for a log line', () => {
    it('never shows the API key or the execute token', () => {
      const text = JSON.stringify(describeConfig(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-canary-123', EPHEMERA_EXECUTE_TOKEN: 'token-canary-0123456789' })));
      expect(text).not.toContain('canary');
      expect(text.match(/\[set\]/g)).toHaveLength(2);
    });
  });
});
