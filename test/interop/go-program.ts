/**
 * Builds a small Go program against the Go reference code for transparency logs
 * (golang.org/x/mod/sumdb/note and sumdb/tlog, Debian's golang-golang-x-mod-dev),
 * so tests can check our formats against it in both directions. GOPATH mode
 * against the packaged sources: no network, no module download. Needs `go`
 * and the package (.ci/run and `npm test`'s pretest install both).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GOPATH_SOURCES = '/usr/share/gocode';

/** Compiles the `main` package in `sourceDir` (a folder of .go files) and returns the binary's path. */
export function buildGoProgram(sourceDir: string): string {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'go missing: install it (Debian: apt-get install golang-go golang-golang-x-mod-dev; .ci/run does) to check the transparency-log formats against the Go reference code',
    );
  }
  if (!existsSync(join(GOPATH_SOURCES, 'src/golang.org/x/mod/sumdb/note')))
    throw new Error('golang.org/x/mod missing: install it (Debian: apt-get install golang-golang-x-mod-dev; .ci/run does)');
  const work = mkdtempSync(join(tmpdir(), 'ephemera-go-'));
  const binary = join(work, 'program');
  execFileSync('go', ['build', '-o', binary, '.'], {
    cwd: sourceDir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      GOCACHE: join(work, 'cache'),
      GOPATH: GOPATH_SOURCES,
      GO111MODULE: 'off',
      GOFLAGS: '',
      CGO_ENABLED: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return binary;
}
