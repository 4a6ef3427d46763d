/**
 * Debian's Chromium driven by playwright-core, as every browser test starts it: headless, its profile in the
 * test's directory, nothing sent anywhere by the browser itself (no background networking, updates, sync or
 * QUIC). Fails with what is missing when Chromium is not installed. Tests only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(dir: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium missing: ${CHROMIUM} not found (apt-get install chromium; .ci/setup.d/30-chromium.sh does it in CI)`);
  return chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
