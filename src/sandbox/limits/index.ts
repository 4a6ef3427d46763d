/**
 * The sandbox's limits: which mechanism enforces each (plan.ts), prepared
 * once per process and mode — the host read before we change our own cgroup,
 * cgroup v2 controllers delegated to our subtree, stale run cgroups swept —
 * then one RunLimits per sandbox (run-limits.ts).
 */
import { sweepStaleCgroups } from './cgroup-files.js';
import { delegate } from './delegate.js';
import { readCgroupHost, type CgroupHost } from './host.js';
import { planLimits, type LimitPlan, type LimitsMode } from './plan.js';
import { createRunLimits, type LimitValues, type RunLimits } from './run-limits.js';

export type { LimitsMode } from './plan.js';
export type { RunLimits, SupervisorLimits } from './run-limits.js';

const V2_CONTROLLER = { memory: 'memory', processes: 'pids', cpu: 'cpu' } as const;

let host: CgroupHost | null = null;
const plans = new Map<LimitsMode, LimitPlan>();

/** Plans the limits for `mode` on this host, the first time prepares the cgroups it uses; throws if an explicit mode cannot be met. */
export function prepareLimits(mode: LimitsMode): LimitPlan {
  const known = plans.get(mode);
  if (known) return known;
  // Read once: moving ourselves into a leaf below changes what /proc/self/cgroup says, not where runs belong.
  host ??= readCgroupHost();
  const plan = planLimits(host, mode);
  const v2Controllers = (Object.keys(V2_CONTROLLER) as (keyof typeof V2_CONTROLLER)[]).filter((l) => plan[l] === 'cgroup2').map((l) => V2_CONTROLLER[l]);
  if (host.v2 && v2Controllers.length > 0) delegate(host.v2, v2Controllers);
  sweepStaleCgroups(parentsOf(plan, host));
  plans.set(mode, plan);
  return plan;
}

export function createLimits(mode: LimitsMode, name: string, values: LimitValues): RunLimits {
  const plan = prepareLimits(mode);
  return createRunLimits(name, plan, host!, values);
}

/** The directories a plan makes run cgroups in. */
function parentsOf(plan: LimitPlan, h: CgroupHost): string[] {
  const parents = new Set<string>();
  if (Object.values(plan).includes('cgroup2')) parents.add(h.v2!.dir);
  if (plan.memory === 'cgroup1') parents.add(h.v1.memory!.dir);
  if (plan.processes === 'cgroup1') parents.add(h.v1.pids!.dir);
  if (plan.cpu === 'cgroup1') parents.add(h.v1.cpu!.dir);
  return [...parents];
}
