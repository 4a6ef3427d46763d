/**
 * What cgroup hierarchies this process can use, read from /proc/self/mountinfo
 * and /proc/self/cgroup: the cgroup2 mount (pure v2 at /sys/fs/cgroup, or
 * hybrid at /sys/fs/cgroup/unified) with the directory of our own cgroup and
 * the controllers it offers to children, and the v1 memory, pids and cpu
 * controllers' directories of our own cgroups. Parsing is pure (unit-tested
 * with other hosts' files); only readCgroupHost touches /proc and /sys.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type V1Controller = 'memory' | 'pids' | 'cpu';
export const V1_CONTROLLERS: readonly V1Controller[] = ['memory', 'pids', 'cpu'];

export interface CgroupDir {
  /** Our own cgroup's directory: the run's cgroups are made under it. */
  readonly dir: string;
  /** Whether we may create cgroups in it (a read-only /sys/fs/cgroup is the container default). */
  readonly writable: boolean;
}

export interface CgroupHost {
  /** isRoot: the hierarchy's real root, exempt from "no internal processes" (a container's namespace root is not). */
  readonly v2: (CgroupDir & { readonly controllers: readonly string[]; readonly isRoot: boolean }) | null;
  readonly v1: Readonly<Partial<Record<V1Controller, CgroupDir>>>;
}

interface Mount {
  root: string;
  mountPoint: string;
  type: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescapeField = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (separator < 6 || fields.length < separator + 4) continue;
    mounts.push({
      root: unescapeField(fields[3]!),
      mountPoint: unescapeField(fields[4]!),
      type: fields[separator + 1]!,
      superOptions: fields[separator + 3]!.split(','),
    });
  }
  return mounts;
}

/** /proc/self/cgroup: "0::/path" is the v2 membership, "N:memory,...:/path" a v1 one (named hierarchies are ignored). */
export function parseProcCgroup(text: string): { v2: string | null; v1: Map<string, string> } {
  let v2: string | null = null;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, id, controllers, path] = match;
    if (id === '0' && controllers === '') v2 = path!;
    else for (const controller of controllers!.split(',')) if (controller && !controller.startsWith('name=')) v1.set(controller, path!);
  }
  return { v2, v1 };
}

/** Where our cgroup `path` appears under a mount whose root is `root` (a container may see only a subtree); null when it is outside. */
function locate(mount: Mount, path: string): string | null {
  const under = (rest: string) => join(mount.mountPoint, rest).replace(/(.)\/$/, '$1');
  if (mount.root === '/') return under(path);
  // Both paths are relative to the same root (the hierarchy's, or the cgroup namespace's), so a prefix test suffices.
  if (path === mount.root || path.startsWith(`${mount.root}/`)) return under(path.slice(mount.root.length));
  return null;
}

export interface HostFiles {
  mountinfo: string;
  procCgroup: string;
  /** cgroup.controllers of a v2 directory ('' when unreadable). */
  controllersOf(dir: string): string;
  writable(dir: string): boolean;
  /** Whether a v2 directory is the real root: the only cgroup without a cgroup.type file. */
  isRootCgroup(dir: string): boolean;
}

export function cgroupHostFrom(files: HostFiles): CgroupHost {
  const mounts = parseMountinfo(files.mountinfo);
  const own = parseProcCgroup(files.procCgroup);
  let v2: CgroupHost['v2'] = null;
  const unified = mounts.find((m) => m.type === 'cgroup2');
  if (unified && own.v2 !== null) {
    const dir = locate(unified, own.v2);
    if (dir !== null) {
      const controllers = files.controllersOf(dir).trim().split(/\s+/).filter(Boolean);
      v2 = { dir, controllers, writable: files.writable(dir), isRoot: files.isRootCgroup(dir) };
    }
  }
  const v1: Partial<Record<V1Controller, CgroupDir>> = {};
  for (const controller of V1_CONTROLLERS) {
    const mount = mounts.find((m) => m.type === 'cgroup' && m.superOptions.includes(controller));
    const path = own.v1.get(controller);
    if (!mount || path === undefined) continue;
    const dir = locate(mount, path);
    if (dir !== null) v1[controller] = { dir, writable: files.writable(dir) };
  }
  return { v2, v1 };
}

const readOr = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** This process's cgroup host, as the kernel shows it now. */
export function readCgroupHost(): CgroupHost {
  return cgroupHostFrom({
    mountinfo: readOr('/proc/self/mountinfo'),
    procCgroup: readOr('/proc/self/cgroup'),
    controllersOf: (dir) => readOr(join(dir, 'cgroup.controllers')),
    isRootCgroup: (dir) => !existsSync(join(dir, 'cgroup.type')),
    writable: (dir) => {
      try {
        accessSync(dir, constants.W_OK); // EROFS on a read-only mount, even for root
        return true;
      } catch {
        return false;
      }
    },
  });
}
