/**
 * cgroup v2 delegation: the run cgroups under ours get a controller only if our cgroup enables it in its
 * cgroup.subtree_control, and a non-root cgroup with processes may not (the "no internal processes" rule).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EphemeraError } from '../../errors.js';
import { members, read, write } from './cgroup-files.js';
import type { CgroupHost } from './host.js';

/** Where the service's own processes go when our cgroup must give its controllers to children. */
export const SERVICE_LEAF = 'ephemera-service';

/**
 * Enables the controllers in our cgroup's subtree_control so each run's cgroup gets them. A non-root cgroup with
 * processes cannot do that, so its processes (this service, and whatever shares its cgroup, as in a container
 * whose cgroup namespace is ours) first move into a leaf beside the runs' cgroups.
 */
export function delegate(v2: NonNullable<CgroupHost['v2']>, controllers: readonly string[]): void {
  const enabled = read(v2.dir, 'cgroup.subtree_control').split(/\s+/);
  const missing = controllers.filter((c) => !enabled.includes(c));
  if (missing.length === 0) return;
  try {
    if (!v2.isRoot && members(v2.dir).length > 0) {
      const leaf = join(v2.dir, SERVICE_LEAF);
      mkdirSync(leaf, { recursive: true });
      // A process forked while we move the others is moved by the next round.
      for (let round = 0; round < 10 && members(v2.dir).length > 0; round++) {
        for (const pid of members(v2.dir)) {
          try {
            write(leaf, 'cgroup.procs', pid);
          } catch {
            // exited meanwhile
          }
        }
      }
    }
    write(v2.dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
  } catch (cause) {
    throw new EphemeraError('SANDBOX_LIMIT_UNAVAILABLE', `cannot delegate the cgroup v2 controllers ${missing.join(', ')} to the sandboxes`, { cause });
  }
}
