/**
 * The deployment files, checked as far as this machine can (it has no Docker
 * engine): both compose files validate against the Compose Specification's
 * own JSON schema (compose-spec.json, copied from compose-spec/compose-spec,
 * Apache-2.0), and the properties a deployment depends on hold: data on
 * volumes, health checks and restart policies, start order, images pinned by
 * digest in the dstack app, secrets passed through its allowed environment,
 * and only variable names Ephemera reads.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config.js';
import { PINNED_IMAGE, pinImage } from '../../scripts/dstack-image.js';

const ROOT = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  environment?: Record<string, string | number>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  cgroup?: string;
  cap_add?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
const validateCompose = ajv.compile(JSON.parse(read('test/deploy/compose-spec.json')));
const KNOWN_VARIABLES = new Set<string>(Object.values(CONFIG_VARIABLES));
/** `${NAME}`, `${NAME:-default}`, `${NAME:?message}`: the names a compose file takes from its environment. */
const interpolated = (text: string) => new Set([...text.matchAll(/\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}/g)].map((m) => m[1]!));

describe.each([
  ['docker-compose.yml', 'ephemera'],
  ['docker-compose.nodes.yml', 'ephemera-1'],
  ['deploy/dstack/docker-compose.yaml', 'ephemera'],
])('%s', (path, service) => {
  const text = read(path);
  const compose = parse(text) as Compose;

  it('is a valid Compose file (the Compose Specification schema)', () => {
    const valid = validateCompose(compose);
    expect(validateCompose.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('gives every service a health check and a restart policy', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.healthcheck?.test, name).toBeDefined();
      expect(['always', 'unless-stopped', 'on-failure'], name).toContain(s.restart);
    }
  });

  it('keeps data on declared named volumes', () => {
    for (const s of Object.values(compose.services)) {
      for (const volume of s.volumes ?? []) {
        const source = volume.split(':')[0]!;
        // A bind mount of a file in this repository (the proxy's config) is configuration, not data.
        if (!source.startsWith('/') && !source.startsWith('./')) expect(Object.keys(compose.volumes ?? {})).toContain(source);
      }
    }
  });

  it('sets only variables Ephemera reads on its own service, and calls it ready only when GET /ready says so', () => {
    const ephemera = compose.services[service]!;
    for (const name of Object.keys(ephemera.environment ?? {})) expect(KNOWN_VARIABLES, name).toContain(name);
    expect(ephemera.healthcheck!.test.join(' ')).toContain('/ready');
  });

  it('grants what cgroup v2 limits need: a private cgroup namespace and the capability to make its mount writable', () => {
    const ephemera = compose.services[service]!;
    expect(ephemera.cgroup).toBe('private');
    expect(ephemera.cap_add).toEqual(['SYS_ADMIN']);
    expect(read('Dockerfile')).toContain('mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true');
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as Compose;

  it("keeps Kafka's log (the system of record) on its volume, under one fixed cluster id", () => {
    const kafka = compose.services.kafka!;
    const logDirs = String(kafka.environment!.KAFKA_LOG_DIRS);
    expect(kafka.volumes).toContain(`kafka-data:${logDirs}`);
    // The image formats storage with CLUSTER_ID: a base64url-encoded 16-byte UUID.
    expect(Buffer.from(String(kafka.environment!.CLUSTER_ID), 'base64url')).toHaveLength(16);
  });

  it('starts Ephemera only once the broker and ClickHouse are healthy', () => {
    const { depends_on } = compose.services.ephemera!;
    expect(depends_on?.kafka?.condition).toBe('service_healthy');
    expect(depends_on?.clickhouse?.condition).toBe('service_healthy');
  });
});

describe('docker-compose.nodes.yml (several nodes behind a proxy)', () => {
  const compose = parse(read('docker-compose.nodes.yml')) as Compose & { services: Record<string, Service & { ports?: string[] }> };
  const nodes = Object.keys(compose.services).filter((name) => name.startsWith('ephemera-'));
  const haproxy = read('deploy/nodes/haproxy.cfg');
  /** Each backend's `server NAME HOST:PORT` lines. */
  const backends = new Map([...haproxy.matchAll(/^backend (\S+)\n((?:[ \t]+.*\n?)*)/gm)].map((m) => [m[1]!, m[2]!] as const));

  it('runs three nodes, each with its own node id and data volume, on one topic and one ClickHouse server', () => {
    expect(nodes).toHaveLength(3);
    const env = nodes.map((name) => compose.services[name]!.environment!);
    expect(new Set(env.map((e) => e.EPHEMERA_NODE_ID)).size).toBe(3);
    expect(new Set(nodes.map((name) => compose.services[name]!.volumes![0]!.split(':')[0])).size).toBe(3);
    expect(new Set(env.map((e) => `${e.EPHEMERA_LOG} ${e.KAFKA_BROKERS} ${e.EPHEMERA_KAFKA_TOPIC} ${e.CLICKHOUSE_URL}`)).size).toBe(1);
    expect(Number(env[0]!.EPHEMERA_KAFKA_PARTITIONS)).toBeGreaterThan(1);
  });

  it('publishes only the proxy, and the proxy config names every node in every backend, each health-checked on /ready', () => {
    expect(
      Object.entries(compose.services)
        .filter(([, s]) => s.ports?.length)
        .map(([name]) => name),
    ).toEqual(['proxy']);
    expect(compose.services.proxy!.volumes).toContain('./deploy/nodes/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    expect(backends.size).toBeGreaterThan(0);
    for (const [name, body] of backends) {
      const servers = [...body.matchAll(/^\s+server (\S+) (\S+):8080\b/gm)].map((m) => m[2]);
      expect(servers.sort(), name).toEqual([...nodes].sort());
      expect(body, name).toMatch(/option httpchk GET \/ready\n/);
      expect(body, name).toMatch(/default-server check\b/);
    }
  });

  it('sends live events to a backend that does not cut a long stream, and retries a request elsewhere only when it was never sent', () => {
    expect(haproxy).toMatch(/acl live_events path_reg \^\/executions\/\[\^\/\]\+\/events\$/);
    expect(backends.get('ephemera_events')).toMatch(/timeout server 1h/);
    // conn-failure only: a POST /execute that reached a node is never sent to a second one (it is not idempotent).
    expect([...haproxy.matchAll(/^\s+retry-on (.+)$/gm)].map((m) => m[1])).toEqual(['conn-failure']);
  });

  it('is a configuration HAProxy itself accepts (haproxy -c), nodes not resolvable yet included', () => {
    let checked: string;
    try {
      checked = execFileSync('haproxy', ['-c', '-f', join(ROOT, 'deploy/nodes/haproxy.cfg')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const { code, stderr } = error as { code?: string; stderr?: string };
      if (code === 'ENOENT') throw new Error('haproxy missing: install it (Debian: apt-get install haproxy; .ci/run does) to check the proxy configuration');
      throw new Error(`haproxy refuses deploy/nodes/haproxy.cfg:\n${stderr}`);
    }
    expect(checked).toMatch(/Configuration file is valid/);
  });
});

describe('deploy/dstack (the CVM app)', () => {
  const text = read('deploy/dstack/docker-compose.yaml');
  const compose = parse(text) as Compose;
  const appCompose = JSON.parse(read('deploy/dstack/app-compose.json')) as { allowed_envs: string[]; docker_compose_file: string };

  it('pins every image by digest, written out (no tag, no variable)', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.build, name).toBeUndefined();
      expect(s.image, name).toMatch(PINNED_IMAGE);
    }
  });

  it('lets the host set only allowed variables, the execute token among them, none that picks the image', () => {
    const used = interpolated(text);
    expect([...used].sort()).toEqual([...appCompose.allowed_envs].sort());
    expect(appCompose.allowed_envs).toContain('EPHEMERA_EXECUTE_TOKEN');
    expect(compose.services.ephemera!.environment!.EPHEMERA_EXECUTE_TOKEN).toMatch(/^\$\{EPHEMERA_EXECUTE_TOKEN:\?/);
    expect(appCompose.docker_compose_file).toBe('@docker-compose.yaml');
  });

  it('npm run dstack:pin rewrites the image and nothing else; it refuses tags and short digests', () => {
    const reference = `registry.example/team/ephemera@sha256:${'ab'.repeat(32)}`;
    const pinned = pinImage(text, reference);
    expect((parse(pinned) as Compose).services.ephemera!.image).toBe(reference);
    expect(pinned.replace(reference, compose.services.ephemera!.image!)).toBe(text);
    for (const bad of ['ghcr.io/ephemera/ephemera:latest', 'ghcr.io/x@sha256:abc', '$' + '{EPHEMERA_IMAGE}', `x@sha256:${'AB'.repeat(32)}`]) {
      expect(() => pinImage(text, bad), bad).toThrow(/sha256/);
    }
  });
});

describe('the reproducible image (Dockerfile, docs/reproducible-builds.md §3)', () => {
  const dockerfile = read('Dockerfile');
  const runtime = JSON.parse(read('deploy/image/runtime.json')) as { packages: Record<string, string> };

  it('pins its base by digest, written out, in every stage (a stand-in only when given one)', () => {
    expect(dockerfile).toMatch(/^ARG BASE=node:20-bookworm-slim@sha256:[0-9a-f]{64}$/m);
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) expect(base, base).toMatch(/^(\$\{BASE\}|debian-snapshot)$/);
  });

  it('takes Debian packages from one snapshot date only, and installs the runtime manifest’s packages at exactly its versions', () => {
    expect(dockerfile).toMatch(/^ARG SNAPSHOT=\d{8}T\d{6}Z$/m);
    expect(dockerfile).toContain('rm -f /etc/apt/sources.list.d/debian.sources');
    for (const [name, version] of Object.entries(runtime.packages)) expect(dockerfile, name).toContain(` ${name}=${version} `);
  });

  it('installs the bundle built inside the image build, checks the sandbox tools against the manifest, and copies no checkout', () => {
    expect(dockerfile).toContain('npm run bundle');
    // The bundle stage's own npm comes from a tarball checked against a pinned sha512, never by name from the registry.
    expect(dockerfile).toMatch(/npm pack --silent (npm@[\d.]+) \\\n && echo "[0-9a-f]{128} {2}npm-[\d.]+\.tgz" \| sha512sum --check/);
    expect(dockerfile).not.toMatch(/npm install --global[^\n]* npm@/);
    expect(dockerfile).toContain('node /app/bin/ephemera.js build-info --check-runtime');
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).not.toMatch(/^COPY \. /m);
    expect(final).toMatch(/^COPY --from=bundle \/src\/build\/ephemera-bundle\.tar /m);
  });
});

describe("the image's entrypoint", () => {
  it('remounts the cgroup mount, then runs the service without CAP_SYS_ADMIN (bounding, permitted, effective, inheritable)', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))![1]!;
    const [shell, flag, script] = JSON.parse(cmd) as string[];
    expect([shell, flag]).toEqual(['sh', '-c']);
    expect(script).toMatch(/exec setpriv .* -- node bin\/ephemera\.js serve$/);
    // The same line, with the service replaced by a look at its capabilities, in a mount namespace of its own (the remount stays there).
    const probe = script!.replace('node bin/ephemera.js serve', 'cat /proc/self/status');
    const status = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', probe], { encoding: 'utf8' });
    const caps = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)![1]}`);
    const has = (set: bigint, cap: number) => (set >> BigInt(cap)) & 1n;
    const CAP_SETUID = 7;
    const CAP_SYS_ADMIN = 21;
    for (const set of ['CapBnd', 'CapPrm', 'CapEff', 'CapInh']) expect(has(caps(set), CAP_SYS_ADMIN), set).toBe(0n);
    // It keeps what it needs to run each sandbox as an unprivileged uid.
    expect(has(caps('CapEff'), CAP_SETUID)).toBe(1n);
  });
});

describe('LICENSE', () => {
  it('is the Apache License 2.0 that package.json names', () => {
    const pkg = JSON.parse(read('package.json')) as { license: string };
    expect(pkg.license).toBe('Apache-2.0');
    const license = read('LICENSE');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });
});
