/** The certificate browser: routes by path. */
import { verifyInBrowser } from './checks.js';
import { listPage } from './list.js';
import { certificatePage } from './certificate.js';
import { verifyPage } from './verify-page.js';

// Exposed for tests and the curious: the same verifier the page uses.
(window as unknown as { ephemeraVerify: typeof verifyInBrowser }).ephemeraVerify = verifyInBrowser;

function route(): void {
  const match = /^\/c\/([A-Za-z0-9_]+)$/.exec(location.pathname);
  if (match) void certificatePage(match[1]!);
  else if (location.pathname === '/verify') verifyPage();
  else void listPage();
}

window.addEventListener('popstate', route);
route();
