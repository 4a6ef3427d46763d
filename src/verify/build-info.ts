/**
 * A build-info document (docs/reproducible-builds.md §4): what one commit's reproducible build measures to, as
 * `ephemera build-info --json` prints it: the bundle's hash, the image it pins, the dstack compose hash a quote
 * names, and the sandbox's runtime (the tools the image installs, each with its version and SHA-256). A reader
 * hands one to the verifier instead of raw hashes; it is hostile input like a certificate, read strictly and
 * bounded. Pure and isomorphic: the browser verifier reads it too.
 */
import { EphemeraError } from '../errors.js';
import { parseStrictJson, s, type Infer } from '../events/index.js';

export const BUILD_INFO_FORMAT = 'ephemera.build-info/1';
export const RUNTIME_FORMAT = 'ephemera.runtime/1';
/** A build-info document is a few kilobytes; anything past this is not one. */
export const MAX_BUILD_INFO_BYTES = 64 * 1024;

const text = (max = 256) => s.string(max);
const tool = s.object({ path: text(), version: text(), sha256: s.hash() });

/** The sandbox's runtime a build installs: Debian packages by exact version, and the tools they put where the sandbox runs them. */
export const runtimeManifestSchema = s.object({
  format: s.literal(RUNTIME_FORMAT),
  base: text(),
  packages: s.record(text(128), 64),
  tools: s.record(tool, 32),
});
export type RuntimeManifest = Infer<typeof runtimeManifestSchema>;

/** What built a bundle (its manifest's `build_env`, which build-info repeats): the bundle's hash holds for these only. */
export const buildEnvSchema = s.object({ node: text(64), npm: text(64), cc: s.nullable(text()), cxx: s.nullable(text()), platform: text(64) });

export const buildInfoSchema = s.object({
  format: s.literal(BUILD_INFO_FORMAT),
  version: text(64),
  /**
   * The last commit that changed what the bundle is built from (a later commit that only pins the image builds
   * the same bundle); null where build-info ran outside a git checkout and was given no bundle.
   */
  commit: s.nullable(s.pattern(/^[0-9a-f]{40}$/, 'a 40-hex git commit')),
  /** The bundle as `npm run bundle` rebuilds it at that commit; null when build-info was given no bundle. */
  bundle: s.nullable(
    s.object({
      sha256: s.hash(),
      source_date_epoch: s.int(),
      build_env: buildEnvSchema,
    }),
  ),
  /** The image the dstack compose file pins, by digest. */
  image: s.nullable(text(512)),
  compose_hash: s.nullable(s.hex(64)),
  runtime: runtimeManifestSchema,
});
export type BuildInfo = Infer<typeof buildInfoSchema>;

/** Reads a build-info document's text strictly (size, JSON, closed shape); BUILD_INFO_MALFORMED otherwise. */
export function parseBuildInfo(input: string): BuildInfo {
  if (input.length > MAX_BUILD_INFO_BYTES) throw new EphemeraError('BUILD_INFO_MALFORMED', `a build-info document is at most ${MAX_BUILD_INFO_BYTES} bytes`);
  return checkBuildInfo(strictJson(input));
}

/** At most this many build-info documents in one list (the web page's policy). */
export const MAX_BUILD_INFOS = 16;

/** One build-info document, or a JSON array of them, read as strictly as one (duplicate members refused at any depth). */
export function parseBuildInfos(input: string): BuildInfo[] {
  if (input.trim() === '') return [];
  if (input.length > MAX_BUILD_INFO_BYTES * MAX_BUILD_INFOS)
    throw new EphemeraError('BUILD_INFO_MALFORMED', `at most ${MAX_BUILD_INFOS} build-info documents of ${MAX_BUILD_INFO_BYTES} bytes`);
  const value = strictJson(input.trim());
  if (!Array.isArray(value)) {
    if (input.length > MAX_BUILD_INFO_BYTES) throw new EphemeraError('BUILD_INFO_MALFORMED', `a build-info document is at most ${MAX_BUILD_INFO_BYTES} bytes`);
    return [checkBuildInfo(value)];
  }
  if (value.length > MAX_BUILD_INFOS) throw new EphemeraError('BUILD_INFO_MALFORMED', `at most ${MAX_BUILD_INFOS} build-info documents`);
  return value.map((item, i) => {
    if (JSON.stringify(item).length > MAX_BUILD_INFO_BYTES)
      throw new EphemeraError('BUILD_INFO_MALFORMED', `build-info[${i}]: at most ${MAX_BUILD_INFO_BYTES} bytes`);
    return checked<BuildInfo>(buildInfoSchema, item, `build-info[${i}]`);
  });
}

function strictJson(input: string): unknown {
  try {
    return parseStrictJson(input);
  } catch (cause) {
    throw new EphemeraError('BUILD_INFO_MALFORMED', `not a build-info document: ${(cause as Error).message}`);
  }
}

function checkBuildInfo(value: unknown): BuildInfo {
  return checked(buildInfoSchema, value, 'build-info');
}

/** Reads a runtime manifest (deploy/image/runtime.json) already parsed as JSON. */
export function parseRuntimeManifest(value: unknown): RuntimeManifest {
  return checked(runtimeManifestSchema, value, 'runtime');
}

function checked<T>(schema: { check: (v: unknown, p: string) => { path: string; reason: string } | null }, value: unknown, what: string): T {
  const problem = schema.check(value, what);
  if (problem) throw new EphemeraError('BUILD_INFO_MALFORMED', `${problem.path}: ${problem.reason}`, { fields: { field: problem.path } });
  return value as T;
}

/** What the certificate's sandbox recorded (`sandbox.created` runtime.tools). */
export type RecordedTools = Readonly<Record<string, { path: string; version: string; sha256: string }>>;

/**
 * Each way the tools a sandbox recorded differ from a build's manifest, one line per tool ("python3: sha256
 * sha256:… where the build has sha256:…"); empty when they are the same tools, no more and no fewer.
 */
export function runtimeDifferences(build: RuntimeManifest, recorded: RecordedTools): string[] {
  const differences: string[] = [];
  for (const name of [...new Set([...Object.keys(build.tools), ...Object.keys(recorded)])].sort()) {
    const want = Object.hasOwn(build.tools, name) ? build.tools[name] : undefined;
    const got = Object.hasOwn(recorded, name) ? recorded[name] : undefined;
    if (!got) differences.push(`${name}: not recorded, but the build installs it`);
    else if (!want) differences.push(`${name}: recorded, but the build does not install it`);
    else
      for (const field of ['path', 'version', 'sha256'] as const) {
        if (got[field] !== want[field]) differences.push(`${name}: ${field} ${JSON.stringify(got[field])} where the build has ${JSON.stringify(want[field])}`);
      }
  }
  return differences;
}
