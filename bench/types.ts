/** One measured figure. Each bench module exports `bench(): Promise<BenchRow[]>`. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
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
