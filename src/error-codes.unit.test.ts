/**
 * The error registry (error-codes.ts) is the one list: its table is pinned
 * through the generated docs/errors.md, every code the sources raise or
 * record is in it, and every code in it is raised or recorded somewhere.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_REGISTRY, errorInfo, isErrorCode } from './error-codes.js';
import { errorsDoc } from './error-codes-doc.js';

const ROOT = join(import.meta.dirname, '..');
/** Literals that look like codes and are not: environment variable names. */
const NOT_CODES = new Set(['DATASET_PATH']);

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|py)$/.test(f) && !/\.test\.ts$|\.contract\.ts$|\/testing\//.test(f))
    .map((f) => join(ROOT, dir, f));
}

const FILES = [...sources('src'), ...sources('web/src')].filter((f) => !f.endsWith('error-codes.ts') && !f.endsWith('error-codes-doc.ts'));
const PREFIXES = new Set(Object.keys(ERROR_REGISTRY).map((code) => code.split('_')[0]!));
/** Every string literal shaped like a code with a registry prefix, and where it is. */
const used = new Map<string, string>();
const folders = new Set<string>();
for (const file of FILES) {
  for (const [, code] of readFileSync(file, 'utf8').matchAll(/['"`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|INTERNAL)['"`]/g)) {
    if (!PREFIXES.has(code!.split('_')[0]!) || NOT_CODES.has(code!)) continue;
    used.set(code!, relative(ROOT, file));
    folders.add(relative(ROOT, file).split('/').slice(0, 2).join('/'));
  }
}

describe('the error registry', () => {
  it('is the table docs/errors.md lists (run `npm run errors-doc` after changing it)', () => {
    expect(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8')).toBe(errorsDoc());
  });

  it('holds every code the sources raise or record', () => {
    const missing = [...used].filter(([code]) => !isErrorCode(code)).map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });

  it('holds no code that nothing raises or records', () => {
    expect(Object.keys(ERROR_REGISTRY).filter((code) => !used.has(code))).toEqual([]);
  });

  it('sees the codes of every layer (the scan works)', () => {
    expect(used.size).toBeGreaterThan(100);
    for (const folder of ['src/events', 'src/attest', 'src/sandbox', 'src/commands', 'src/verify', 'src/cli', 'src/projections'])
      expect(folders).toContain(folder);
  });

  it('gives every code a stage, an exit code and a message; unknown codes are INTERNAL', () => {
    for (const info of Object.values(ERROR_REGISTRY)) {
      expect(info.message.length).toBeGreaterThan(5);
      expect([0, 1, 2, 3, 4]).toContain(info.exit);
    }
    expect(errorInfo('NO_SUCH_CODE')).toBe(ERROR_REGISTRY.INTERNAL);
  });
});
