/**
 * Layer rules (docs/architecture.md), checked by `npm run deps` in CI:
 * events at the bottom; attest and sandbox above it; commands above those;
 * projections read events; the verifier depends on nothing server-side.
 */
const COMPOSITION = '^src/(app|server|services|cli|config|http-errors|json-body)\\.ts$';
/** `from` may not import the folders `forbidden`; the libraries below the write and read sides not the composition files either. */
const layer = (from, forbidden, library = true) => ({
  name: `${from}-layer`,
  comment: `src/${from}/ may not import ${forbidden.join(', ')}${library ? ' or the composition files' : ''} (docs/design.md §2)`,
  severity: 'error',
  from: { path: `^src/${from}/`, pathNot: '\\.test\\.ts$|/testing/' },
  to: { path: [`^src/(${forbidden.join('|')})/`, ...(library ? [COMPOSITION] : [])] },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: { pathNot: '\\.test\\.ts$' }, to: { circular: true } },
    layer('events', ['attest', 'sandbox', 'commands', 'projections', 'verify', 'cli', 'web']),
    layer('attest', ['sandbox', 'commands', 'projections', 'verify', 'cli', 'web']),
    layer('sandbox', ['events', 'attest', 'commands', 'projections', 'verify', 'cli', 'web']),
    layer('verify', ['sandbox', 'commands', 'projections', 'cli', 'web', 'seal']),
    layer('seal', ['sandbox', 'commands', 'projections', 'cli', 'web']),
    layer('tlog', ['sandbox', 'commands', 'projections', 'cli', 'web', 'seal', 'verify']),
    layer('rows', ['sandbox', 'commands', 'projections', 'cli', 'web', 'seal', 'verify']),
    layer('witness', ['sandbox', 'commands', 'projections', 'cli', 'web', 'seal', 'verify', 'attest']),
    layer('build', ['commands', 'projections', 'cli', 'web', 'seal', 'tlog', 'rows', 'witness']),
    layer('projections', ['sandbox', 'commands', 'cli', 'web'], false),
    layer('commands', ['projections', 'cli', 'web'], false),
    {
      name: 'web-isomorphic',
      comment: 'the browser bundle (web/src) uses the isomorphic verifier, events and attest only',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { path: ['^src/(sandbox|commands|projections|cli)/', COMPOSITION, '^src/(events|verify|attest|rows)/node\\.ts$', '^src/seal/node-aead\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
