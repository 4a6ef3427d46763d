import { describe, expect, it } from 'vitest';
import { canonicalize, hashUtf8 } from '../../events/index.js';
import { fingerprint, resolveEntrypoint, sandboxHash, sandboxSummary } from './describe.js';
import { parseExecuteRequest } from './request.js';

const sandbox = (llm?: Record<string, unknown>) =>
  parseExecuteRequest({
    dataset: { data: 'base64:eA==', format: 'txt' },
    sandbox: { ...(llm ? { llm } : {}), tools: ['python'], scripts: { 'main.py': 'print(1)' }, environment: { timeout_seconds: 5, max_memory_mb: 64 } },
  }).sandbox;

describe('what a request commits to', () => {
  describe('when the sandbox carries an API key', () => {
    it('hashes the same as without it, and the summary holds no key (THREATS G48)', () => {
      const withKey = sandbox({ prompt: 'p', model: 'm', api_key: 'sk-ant-secret' });
      const without = sandbox({ prompt: 'p', model: 'm' });
      expect(sandboxHash(withKey)).toBe(sandboxHash(without));
      expect(sandboxHash(withKey)).toBe(hashUtf8(canonicalize(without)));
      expect(JSON.stringify(sandboxSummary(withKey, null))).not.toContain('sk-ant-secret');
      expect(sandboxSummary(withKey, null).llm).toEqual({
        provider: 'anthropic',
        model: 'm',
        prompt_hash: hashUtf8('p'),
        max_turns: 10,
        max_output_tokens: 4096,
      });
      expect(withKey.llm?.api_key).toBe('sk-ant-secret');
    });
  });

  describe('when the same computation runs on the same data', () => {
    it('has the same fingerprint; another dataset another one', () => {
      const s = sandboxHash(sandbox());
      expect(fingerprint(hashUtf8('a'), s)).toBe(fingerprint(hashUtf8('a'), s));
      expect(fingerprint(hashUtf8('a'), s)).not.toBe(fingerprint(hashUtf8('b'), s));
    });
  });

  describe('when resolving the entrypoint', () => {
    it('runs the only script without an LLM, and none with one unless named', () => {
      expect(resolveEntrypoint(sandbox())).toBe('main.py');
      expect(resolveEntrypoint(sandbox({ prompt: 'p', model: 'm' }))).toBeNull();
    });
  });
});
