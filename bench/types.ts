/**
 * One measured figure. Each bench module exports `bench(options): Promise<BenchRow[]>`.
 * A row that has a natural floor (the same work done by the simplest tool: a bare bwrap, openssl,
 * JSON.stringify + node:crypto, one broker round trip) carries that floor, measured in the same run,
 * so the ratio survives a noisy or different machine. A row with a goal from the issues says so and
 * whether it was met in this run.
 */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
  /** The floor measured in the same run; `ratio` is value / floor.value (for rates, floor.value / value: ≥ 1 is slower). */
  floor?: { name: string; value: number; unit: string };
  ratio?: number;
  /** The goal this row is held to, as written in the issue (e.g. "≤ 2x bare bwrap"), and whether this run met it. */
  goal?: string;
  met?: boolean;
}

export interface BenchOptions {
  /** `npm run bench -- --quick`: fewer repetitions and smaller sizes, the whole run in under a minute. */
  quick: boolean;
}

/** A row measured against its floor: the ratio is value / floor for times and sizes, floor / value for rates. */
export function againstFloor(
  row: Omit<BenchRow, 'floor' | 'ratio' | 'met'>,
  floor: { name: string; value: number; unit: string },
  goal?: { text: string; ratioAtMost?: number; valueAtMost?: number; valueAtLeast?: number },
): BenchRow {
  const rate = row.unit.endsWith('/s');
  const ratio = +(rate ? floor.value / row.value : row.value / floor.value).toFixed(2);
  return { ...row, floor, ratio, ...(goal ? withGoal(row.value, ratio, goal) : {}) };
}

/** A row's goal and whether it was met: every bound given must hold. */
export function withGoal(
  value: number,
  ratio: number | undefined,
  goal: { text: string; ratioAtMost?: number; valueAtMost?: number; valueAtLeast?: number },
): Pick<BenchRow, 'goal' | 'met'> {
  const met =
    (goal.ratioAtMost === undefined || (ratio !== undefined && ratio <= goal.ratioAtMost)) &&
    (goal.valueAtMost === undefined || value <= goal.valueAtMost) &&
    (goal.valueAtLeast === undefined || value >= goal.valueAtLeast);
  return { goal: goal.text, met };
}

export async function timed<T>(body: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await body();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** Median of `runs` timings, after one warm-up. */
export async function median(runs: number, body: () => Promise<unknown> | unknown): Promise<number> {
  await body();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await timed(body)).ms);
  return medianOf(times);
}

export function medianOf(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
