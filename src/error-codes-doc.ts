/**
 * docs/errors.md, generated from the registry (error-codes.ts):
 * `npm run errors-doc` writes it, error-codes.unit.test.ts checks it is current.
 */
import { ERROR_REGISTRY, type ErrorCode } from './error-codes.js';

export function errorsDoc(): string {
  const rows = (Object.entries(ERROR_REGISTRY) as [ErrorCode, (typeof ERROR_REGISTRY)[ErrorCode]][])
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([code, info]) => `| \`${code}\` | ${info.stage} | ${info.http ?? '—'} | ${info.exit} | ${info.message.replace(/\|/g, '\\|')} |`);
  return `# Error codes

Generated from \`src/error-codes.ts\` by \`npm run errors-doc\`; do not edit by hand.

Every error Ephemera raises or records has one of these codes. **HTTP** is the
status the API answers with (— : the code is only ever reported inside
something else: a verifier's verdict, or a run's certified failure in
\`execution.failed.error_code\`). **Exit** is the exit code of a CLI command
that fails with it (0 ok; 1 invalid or internal; 2 bad input; 3 the run
failed; \`verify\` also exits 4 for a valid certificate whose signer you have
not pinned). What each verifier code checks is specified in
[verification.md](verification.md).

| code | stage | HTTP | exit | meaning |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
}
