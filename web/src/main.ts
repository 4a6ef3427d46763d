/** The certificate browser: routes by path. */
import { browserOptions, verifyInBrowser } from './checks.js';
import { verifyCertificateText, type VerifyOptions } from '../../src/verify/index.js';
import { listPage } from './list.js';
import { certificatePage } from './certificate.js';
import { verifyPage } from './verify-page.js';
import { watchPage } from './watch.js';
import { RUN_ID } from '../../src/events/index.js';

// Exposed for tests and the curious: the same verifier the page uses, on an object or on a file's bytes (base64).
Object.assign(window, {
  ephemeraVerify: verifyInBrowser,
  ephemeraVerifyBytes: (
    base64: string,
    options: { trustedKeys?: string[]; limits?: VerifyOptions['limits']; tdx?: { trustedComposeHashes: string[]; allowedTcbStatuses: string[] } },
  ) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const base = browserOptions(options.tdx ?? { trustedComposeHashes: [], allowedTcbStatuses: [] }, options.trustedKeys ?? []);
    return verifyCertificateText(bytes, { ...base, limits: options.limits });
  },
});

function route(): void {
  const match = /^\/c\/([A-Za-z0-9_]+)$/.exec(location.pathname);
  const watched = new RegExp(`^/e/(${RUN_ID})$`).exec(location.pathname);
  if (match) void certificatePage(match[1]!);
  else if (watched) watchPage(watched[1]!);
  else if (location.pathname === '/verify') verifyPage();
  else void listPage();
}

window.addEventListener('popstate', route);
route();
