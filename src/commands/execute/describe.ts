/**
 * What a request commits to: the sandbox hash over the credential-free
 * description, the fingerprint, and the public summary in execution.requested.
 *
 *   sandbox_hash = SHA-256(JCS(sandbox description with every credential removed))
 *   fingerprint  = SHA-256("ephemera/v1/fingerprint\n" ‖ dataset_hash ‖ "\n" ‖ sandbox_hash)   (docs/design.md §4)
 */
import { canonicalize, hashUtf8, type Hash, type SandboxSummary } from '../../events/index.js';
import type { ExecuteRequest } from './request-schema.js';

export const FINGERPRINT_TAG = 'ephemera/v1/fingerprint\n';

/** Fields that hold credentials, removed before hashing or logging (path from the sandbox object). */
const CREDENTIAL_PATHS: readonly (readonly string[])[] = [['llm', 'api_key']];

export function withoutCredentials<T extends object>(sandbox: T): T {
  const copy = structuredClone(sandbox) as Record<string, unknown>;
  for (const path of CREDENTIAL_PATHS) {
    let node: Record<string, unknown> | undefined = copy;
    for (const key of path.slice(0, -1)) node = node?.[key] as Record<string, unknown> | undefined;
    if (node && typeof node === 'object') delete node[path[path.length - 1]!];
  }
  return copy as T;
}

export function sandboxHash(sandbox: ExecuteRequest['sandbox']): Hash {
  return hashUtf8(canonicalize(withoutCredentials(sandbox)));
}

export function fingerprint(datasetHash: Hash, sandboxHashValue: Hash): Hash {
  return hashUtf8(FINGERPRINT_TAG, datasetHash, '\n', sandboxHashValue);
}

export const LLM_DEFAULTS = { max_turns: 10, max_output_tokens: 4096, max_total_tokens: 200_000 } as const;

/**
 * The entrypoint: `sandbox.entrypoint`, else (without an LLM) the only script, else main.py / main.sh;
 * null when nothing runs as a script. With an LLM, scripts are tools for the model unless one is named.
 * A named entrypoint that is no script is a request problem (request-rules.ts), checked before this.
 */
export function resolveEntrypoint(sandbox: { scripts?: Record<string, unknown>; entrypoint?: string; llm?: unknown }): string | null {
  const names = Object.keys(sandbox.scripts ?? {});
  if (sandbox.entrypoint !== undefined) return sandbox.entrypoint;
  if (sandbox.llm) return null;
  if (names.length === 1) return names[0]!;
  return ['main.py', 'main.sh'].find((name) => names.includes(name)) ?? null;
}

export function sandboxSummary(sandbox: ExecuteRequest['sandbox'], entrypoint: string | null): SandboxSummary {
  return {
    tools: [...(sandbox.tools ?? [])],
    entrypoint,
    scripts: Object.entries(sandbox.scripts ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, content]) => ({ name, hash: hashUtf8(content), bytes: new TextEncoder().encode(content).length })),
    llm: sandbox.llm
      ? {
          provider: 'anthropic',
          model: sandbox.llm.model,
          prompt_hash: hashUtf8(sandbox.llm.prompt),
          max_turns: sandbox.llm.max_turns ?? LLM_DEFAULTS.max_turns,
          max_output_tokens: sandbox.llm.max_output_tokens ?? LLM_DEFAULTS.max_output_tokens,
        }
      : null,
    limits: { timeout_seconds: sandbox.environment.timeout_seconds, max_memory_mb: sandbox.environment.max_memory_mb },
    network: { allow: [...(sandbox.environment.network?.allow ?? [])] },
  };
}
