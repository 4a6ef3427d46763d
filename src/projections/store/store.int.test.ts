import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../migrate/migrate.js';
import { isolatedUrl } from '../testing/projection-fixture.js';
import { openClickHouse } from './clickhouse.js';
import { describeStoreContract } from './store.contract.js';

// chDB: one data directory per process, shared by every store this file opens.
const dir = mkdtempSync(join(tmpdir(), 'ephemera-store-contract-'));

describeStoreContract('chDB in-process', {
  async open() {
    const store = openClickHouse({ url: null, dataDir: dir });
    await migrate(store);
    return { store, dir };
  },
});

if (process.env.CLICKHOUSE_URL) {
  describeStoreContract('a ClickHouse server (CLICKHOUSE_URL)', {
    async open() {
      const store = openClickHouse({ url: (await isolatedUrl(process.env.CLICKHOUSE_URL, 'store_contract'))!, dataDir: dir });
      await migrate(store);
      return { store, dir };
    },
  });
}
