import { describe, expect, it } from 'vitest';
import { buildBwrapArgv, type BwrapProfile } from './argv.js';

const profile: BwrapProfile = {
  bwrapPath: '/usr/bin/bwrap',
  supervisorFd: 4,
  datasetFd: 3,
  datasetFile: 'dataset.csv',
  workBytes: 1024,
  outBytes: 2048,
  tmpBytes: 4096,
  uid: 65534,
  gid: 65534,
  env: { DATASET_PATH: '/data/dataset.csv' },
  traceOutput: '/tmp/ephemera-trace-x/trace.fifo',
  sqlClientFd: 5,
};
const pairs = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

describe('buildBwrapArgv', () => {
  describe('when given a valid profile', () => {
    const argv = buildBwrapArgv(profile);
    it('unshares every namespace, starts a new session, dies with its parent, drops capabilities and clears the environment', () => {
      expect(argv).toEqual(expect.arrayContaining(['--unshare-all', '--unshare-user', '--new-session', '--die-with-parent', '--as-pid-1', '--clearenv']));
      expect(pairs(argv, '--cap-drop')).toEqual(['ALL']);
      expect(argv).not.toContain('--share-net');
    });
    it('binds only /usr from the host, read-only', () => {
      expect(pairs(argv, '--bind')).toEqual([]);
      expect(pairs(argv, '--ro-bind')).toEqual(['/usr']);
    });
    it("binds the loader's library index read-only at /etc/ld.so.cache, when given one", () => {
      const withCache = buildBwrapArgv({ ...profile, libraryCache: '/etc/ld.so.cache' });
      expect(pairs(withCache, '--ro-bind')).toEqual(['/usr', '/etc/ld.so.cache']);
      expect(withCache[withCache.indexOf('/etc/ld.so.cache', withCache.indexOf('--ro-bind', withCache.indexOf('/usr') + 2)) + 1]).toBe('/etc/ld.so.cache');
    });
    it('feeds the dataset from a file descriptor into a read-only /data tmpfs, and the supervisor likewise', () => {
      expect(pairs(argv, '--ro-bind-data')).toEqual(['4', '5', '3']); // the supervisor, the sql command, the dataset
      expect(argv[argv.indexOf('--ro-bind-data') + 2]).toBe('/run/ephemera/supervisor.py');
      expect(argv[argv.lastIndexOf('--ro-bind-data') + 2]).toBe('/data/dataset.csv');
      expect(pairs(argv, '--remount-ro')).toEqual(['/proc/sys', '/dev', '/data', '/']);
    });
    it('leaves /proc/sys empty and read-only, and forbids nested user namespaces', () => {
      expect(argv.join(' ')).toContain('--proc /proc --tmpfs /proc/sys --remount-ro /proc/sys');
      expect(argv).toContain('--disable-userns');
    });
    it('binds the sql command in every sandbox and the engine only when the run offers sql, read-only, on the root remounted read-only after them', () => {
      const at = (argv: string[], ...flags: string[]) => argv.findIndex((_, i) => flags.every((f, j) => argv[i + j] === f));
      const command = at(argv, '--perms', '0555', '--ro-bind-data', '5', '/opt/ephemera/bin/sql');
      expect(command).toBeGreaterThan(0);
      expect(argv.join(' ')).not.toContain('ephemera_sql.py');
      const withSql = buildBwrapArgv({ ...profile, sqlEngineFd: 6 });
      const engine = at(withSql, '--perms', '0444', '--ro-bind-data', '6', '/opt/ephemera/lib/ephemera_sql.py');
      expect(engine).toBeGreaterThan(at(withSql, '--perms', '0555', '--ro-bind-data', '5', '/opt/ephemera/bin/sql'));
      expect(at(withSql, '--remount-ro', '/')).toBeGreaterThan(engine);
    });
    it('binds the network proxy socket only when hosts are allowed', () => {
      expect(argv).not.toContain('/run/ephemera/proxy.sock');
      expect(pairs(buildBwrapArgv({ ...profile, proxySocketPath: '/tmp/p/proxy.sock' }), '--ro-bind')).toContain('/tmp/p/proxy.sock');
    });
    it('caps every writable tmpfs, and leaves the root and /dev read-only', () => {
      expect(argv.join(' ')).toContain('--size 4096 --tmpfs /tmp --size 1024 --tmpfs /work --size 2048 --tmpfs /out');
      expect(argv.join(' ')).toContain(`--dev /dev --size ${8 << 20} --tmpfs /dev/shm --remount-ro /dev --size ${1 << 20} --tmpfs /run`);
      // Every --tmpfs but /data (read-only once the dataset is in) and /proc/sys (read-only, empty) has its --size.
      const unsized = argv.flatMap((a, i) => (a === '--tmpfs' && argv[i - 2] !== '--size' ? [argv[i + 1]] : []));
      expect(unsized).toEqual(['/proc/sys', '/data']);
      expect(argv.indexOf('--remount-ro', argv.indexOf('/data') + 1)).toBeGreaterThan(-1);
      expect(argv[argv.lastIndexOf('--remount-ro') + 1]).toBe('/');
    });
    it('sets only the allow-listed environment', () => expect(pairs(argv, '--setenv')).toEqual(['DATASET_PATH']));
    it('runs bwrap under one tracer from outside, writing to a host path, and the supervisor inside', () => {
      const tracer = argv.slice(argv.indexOf('/usr/bin/strace'), argv.indexOf('/usr/bin/bwrap'));
      expect(argv.slice(0, 4)).toEqual(['/usr/bin/setpriv', '--pdeathsig', 'KILL', '/usr/bin/strace']);
      expect(tracer.slice(0, 3)).toEqual(['/usr/bin/strace', '-f', '--seccomp-bpf']);
      expect(pairs(tracer, '-o')).toEqual(['/tmp/ephemera-trace-x/trace.fifo']);
      expect(tracer.at(-1)).toBe('--');
      expect(argv.slice(argv.lastIndexOf('--') + 1)).toEqual(['/usr/bin/python3', '-I', '-S', '/run/ephemera/supervisor.py']);
    });
  });

  describe('when file tracing is off', () => {
    it('runs bwrap directly (under setpriv, to die with the executor)', () => {
      const argv = buildBwrapArgv({ ...profile, traceOutput: undefined });
      expect(argv.slice(0, 4)).toEqual(['/usr/bin/setpriv', '--pdeathsig', 'KILL', '/usr/bin/bwrap']);
      expect(argv).not.toContain('/usr/bin/strace');
    });
  });

  describe('when given a host uid to drop to', () => {
    it('has setpriv switch uid, gid and groups before the tracer and bwrap start', () => {
      const argv = buildBwrapArgv({ ...profile, hostUid: 65534 });
      expect(argv.slice(0, argv.indexOf('/usr/bin/strace'))).toEqual([
        '/usr/bin/setpriv',
        '--pdeathsig',
        'KILL',
        '--reuid',
        '65534',
        '--regid',
        '65534',
        '--clear-groups',
      ]);
    });
  });

  describe('when the dataset file name carries a path', () => {
    it('refuses', () => expect(() => buildBwrapArgv({ ...profile, datasetFile: '../etc/x' })).toThrow(TypeError));
  });
});
