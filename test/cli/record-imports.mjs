// `node --import ./record-imports.mjs …`: appends every module URL the process resolves to $RECORD_IMPORTS, one a line
// (for the test that --help and verify load no command's heavy dependencies).
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      appendFileSync(${JSON.stringify(process.env.RECORD_IMPORTS)}, resolved.url + '\\n');
      return resolved;
    }`)}`,
);
