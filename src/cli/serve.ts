/** ephemera serve [--port N] [--host ADDR] */
import { serve } from '../server.js';
import { parse, progress } from './common.js';

export async function serveCommand(argv: string[]): Promise<number> {
  const args = parse(argv, {});
  const { url } = await serve(args.config());
  progress(`ephemera listening on ${url}`);
  await new Promise(() => undefined);
  return 0;
}
