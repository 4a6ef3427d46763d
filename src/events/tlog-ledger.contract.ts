/** The contract every tlog ledger backend passes (sqlite and Kafka int tests). */
import { describe, expect, it } from 'vitest';
import type { TlogLedger } from './tlog-ledger.js';

export function describeTlogLedgerContract(name: string, open: () => Promise<TlogLedger>): void {
  describe(`tlog ledger contract: ${name}`, () => {
    it('appends durably and reads back in order from any position', async () => {
      const ledger = await open();
      try {
        const texts = Array.from({ length: 5 }, (_, i) => `{"record":${i}}`);
        const positions: number[] = [];
        for (const [i, text] of texts.entries()) positions.push(await ledger.append(text, i === 2 ? null : i * 10));
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
        const all = await ledger.readFrom(-1, 100);
        expect(all.map((r) => r.text)).toEqual(texts);
        expect(all.map((r) => r.position)).toEqual(positions);
        const tail = await ledger.readFrom(positions[1]!, 2);
        expect(tail.map((r) => r.text)).toEqual(texts.slice(2, 4));
        expect(await ledger.readFrom(positions[4]!, 10)).toEqual([]);
      } finally {
        await ledger.close();
      }
    });
  });
}
