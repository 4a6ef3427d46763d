/** The certificate browser: routes by path. */
import { browserOptions, verifyInBrowser } from './checks.js';
import { verifyCertificateText, type VerifyOptions } from '../../src/verify/index.js';
import { listPage } from './list.js';
import { certificatePage } from './certificate.js';
import { verifyPage } from './verify-page.js';
import { watchPage } from './watch.js';
import { historyPage } from './history.js';
import { rowsPage } from './rows.js';
import { RUN_ID } from '../../src/events/index.js';

// Exposed for tests and the curious: the same verifier the page uses, on an object or on a file's bytes (base64).
Object.assign(window, {
  ephemeraVerify: verifyInBrowser,
  ephemeraVerifyBytes: (
    base64: string,
    options: {
      trustedKeys?: string[];
      limits?: VerifyOptions['limits'];
      tdx?: { trustedComposeHashes: string[]; allowedTcbStatuses: string[]; builds?: string };
      log?: Pick<VerifyOptions, 'logKeys' | 'witnesses' | 'witnessesRequired' | 'requireLog'>;
    },
  ) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const base = browserOptions(options.tdx ?? { trustedComposeHashes: [], allowedTcbStatuses: [] }, options.trustedKeys ?? []);
    return verifyCertificateText(bytes, { ...base, ...options.log, limits: options.limits });
  },
});

/** The sealed-submission page (/assets/submit.js): its HPKE code is loaded by that page only. */
function loadSubmit(): Promise<typeof import('./submit.js')> {
  const url: string = '/assets/submit.js'; // a variable: esbuild leaves the import to the browser
  return import(url) as Promise<typeof import('./submit.js')>;
}

function route(): void {
  const match = /^\/c\/([A-Za-z0-9_]+)$/.exec(location.pathname);
  const watched = new RegExp(`^/e/(${RUN_ID})$`).exec(location.pathname);
  const history = /^\/history\/(sha256:[0-9a-f]{64})$/.exec(location.pathname);
  if (match) void certificatePage(match[1]!);
  else if (watched) watchPage(watched[1]!);
  else if (history) void historyPage(history[1]!);
  else if (location.pathname === '/verify') verifyPage();
  else if (location.pathname === '/rows') rowsPage();
  else if (location.pathname === '/submit') void loadSubmit().then((m) => m.submitPage());
  else void listPage();
}

window.addEventListener('popstate', route);
route();
