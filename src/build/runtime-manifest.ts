/**
 * The sandbox's runtime as a build declares it (deploy/image/runtime.json, docs/reproducible-builds.md §3): the
 * Debian packages that hold the sandbox's tools, by exact version, and the tools themselves as sandbox.created
 * records them. `ephemera build-info --runtime` writes it from a machine that has the image's packages;
 * `--check-runtime` (the image build runs it) fails when this machine's tools are not the declared ones.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { RUNTIME_FORMAT, type RuntimeManifest } from '../verify/index.js';
import { runtimeIdentity } from '../sandbox/runtime.js';

/** The Debian package that installed the file `path` resolves to (the bytes sandbox.created hashes); then the path as given, since usrmerge registers /bin/bash, not /usr/bin/bash. */
function debianPackageOf(path: string): string {
  for (const candidate of [realpathSync(path), path]) {
    try {
      return execFileSync('dpkg-query', ['-S', candidate], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split(':')[0]!
        .trim();
    } catch {}
  }
  throw new Error(`no Debian package owns ${path}`);
}

function osName(): string {
  const release = readFileSync('/etc/os-release', 'utf8');
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1] ?? 'unknown';
}

/** The installed version of a Debian package, or null when it is not installed. */
export function installedVersion(name: string): string | null {
  try {
    return execFileSync('dpkg-query', ['-W', `-f=\${Version}`, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

/** This machine's runtime: the tools the sandbox records, and the exact versions of the packages they come from. */
export function localRuntimeManifest(): RuntimeManifest {
  const { tools } = runtimeIdentity();
  const packages: Record<string, string> = {};
  for (const tool of Object.values(tools)) {
    const name = debianPackageOf(tool.path);
    packages[name] = installedVersion(name) ?? 'unknown';
  }
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { format: RUNTIME_FORMAT, base: osName(), packages: sorted, tools };
}
