/**
 * The escape battery through real sandboxes (THREATS A–C). Every attack must
 * be contained, and every probe that can safely run on the host must work
 * there (the differential), or the containment proves nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTACKS, runBattery, type AttackResult } from './attacks.js';

describe('escape battery', () => {
  let results: AttackResult[];
  beforeAll(async () => {
    results = await runBattery();
  }, 240_000);

  it('tries at least 30 distinct attacks', () => expect(ATTACKS.length).toBeGreaterThanOrEqual(30));

  it.each(ATTACKS.map((a) => [`${a.threat} ${a.name}`, a.name] as const))('%s is contained', (_label, name) => {
    const result = results.find((r) => r.name === name)!;
    expect({ contained: result.contained, detail: result.detail }).toEqual({ contained: true, detail: expect.any(String) });
    expect(result.differential).not.toMatch(/DID NOT WORK/);
  });

  it('runs the same probe on the host wherever that is safe, and it works there', () => {
    const differential = results.filter((r) => r.differential === 'probe works outside');
    expect(differential.length).toBeGreaterThanOrEqual(20);
  });
});
