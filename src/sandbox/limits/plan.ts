/**
 * Which mechanism enforces each limit, from what the host offers (pure).
 * auto takes, per limit, cgroup v2 where its controller is delegated to us,
 * else cgroup v1, else an rlimit: every limit always gets a mechanism, so a
 * run is never silently unlimited. An explicit EPHEMERA_LIMITS choice must be
 * met for every limit, or the sandbox refuses to start (fail closed).
 */
import { EphemeraError } from '../../errors.js';
import type { CgroupHost, V1Controller } from './host.js';

export const LIMITS_MODES = ['auto', 'cgroup2', 'cgroup1', 'rlimit'] as const;
export type LimitsMode = (typeof LIMITS_MODES)[number];
export type Mechanism = Exclude<LimitsMode, 'auto'>;

export interface LimitPlan {
  readonly memory: Mechanism;
  readonly processes: Mechanism;
  readonly cpu: Mechanism;
  /** What holds every process of the run, to list and kill them: a cgroup, or (rlimit) the process tree and its pid namespace. */
  readonly membership: Mechanism;
}

type Limit = Exclude<keyof LimitPlan, 'membership'>;
const CONTROLLER: Record<Limit, V1Controller> = { memory: 'memory', processes: 'pids', cpu: 'cpu' };
const LIMITS = Object.keys(CONTROLLER) as Limit[];

function offers(host: CgroupHost, mechanism: Mechanism, limit: Limit | 'membership'): boolean {
  if (mechanism === 'rlimit') return true;
  if (mechanism === 'cgroup2') return host.v2?.writable === true && (limit === 'membership' || host.v2.controllers.includes(CONTROLLER[limit]));
  if (limit === 'membership') return Object.values(host.v1).some((dir) => dir.writable);
  return host.v1[CONTROLLER[limit]]?.writable === true;
}

export function planLimits(host: CgroupHost, mode: LimitsMode): LimitPlan {
  const choose = (limit: Limit | 'membership'): Mechanism => {
    if (mode !== 'auto') return mode;
    return (['cgroup2', 'cgroup1'] as const).find((m) => offers(host, m, limit)) ?? 'rlimit';
  };
  const plan: LimitPlan = { memory: choose('memory'), processes: choose('processes'), cpu: choose('cpu'), membership: choose('membership') };
  if (mode !== 'auto') {
    const missing = [...LIMITS.filter((limit) => !offers(host, mode, limit)).map((limit) => `the ${CONTROLLER[limit]} controller`)];
    if (!offers(host, mode, 'membership')) missing.unshift('a writable cgroup of our own');
    if (missing.length > 0)
      throw new EphemeraError(
        'SANDBOX_LIMITS_MODE_UNAVAILABLE',
        `EPHEMERA_LIMITS=${mode}, but this host's ${mode === 'cgroup2' ? 'cgroup2 hierarchy' : 'cgroup v1 hierarchies'} lack ${missing.join(', ')}: refusing to run (use auto to fall back per limit)`,
        { fields: { mode } },
      );
  }
  return plan;
}
