/**
 * `ephemera serve`: listen, and shut down cleanly on SIGINT/SIGTERM: drain
 * (admit nothing more, /ready 503; runs in flight go on until
 * EPHEMERA_DRAIN_TIMEOUT_MS, then are stopped as certified EXECUTOR_DRAINING
 * failures; the listener stays open at least EPHEMERA_DRAIN_GRACE_MS, and
 * every answer meanwhile closes its connection), then close the HTTP server
 * (answers in flight are sent) and the services (every pending append awaited
 * before the log closes), exit 0.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from './config.js';
import { buildApp } from './app.js';
import { createServices } from './services.js';
import { abortOwnUnfinished } from './commands/execute/recover.js';
import { assertSandboxSupported, prepareLimits } from './sandbox/index.js';
import { EphemeraError } from './errors.js';

export async function serve(config: Config): Promise<{ url: string; close: () => Promise<void> }> {
  // Never serve executions that would run unsandboxed (THREATS A17).
  assertSandboxSupported();
  // An EPHEMERA_LIMITS this host cannot meet refuses to start, rather than failing every run; the plan is logged once.
  const plan = prepareLimits(config.limits);
  process.stderr.write(`ephemera: limits enforced by memory ${plan.memory}, processes ${plan.processes}, cpu ${plan.cpu}; runs held by ${plan.membership}\n`);
  const services = await createServices(config);
  // Only this node's own journaled runs: on a shared Kafka log, another node's open stream is never ours to close.
  const aborted = await abortOwnUnfinished(services.log, services.journal);
  if (aborted.length > 0) process.stderr.write(`ephemera: marked ${aborted.length} unfinished run(s) of this node aborted (executor restarted)\n`);
  const app = await buildApp(services, { logger: { level: 'info' } });
  // The read side follows the log; it never holds up an execution, and if ClickHouse is down it catches up later.
  await services.readModel.store().catch(() => process.stderr.write('ephemera: ClickHouse unavailable; search and analytics will catch up when it is back\n'));
  const refresher = setInterval(() => void services.readModel.refresh().catch(() => undefined), 1000);
  refresher.unref();
  let url: string;
  try {
    url = await app.listen({ port: config.port, host: config.host });
  } catch (cause) {
    clearInterval(refresher);
    await services.close();
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES')
      throw new EphemeraError('SERVE_ADDRESS_IN_USE', `cannot listen on ${config.host}:${config.port} (${code}): choose another --port or --host`, { cause });
    throw cause;
  }
  if (config.executeToken === null && !['127.0.0.1', '::1', 'localhost'].includes(config.host)) {
    process.stderr.write(`ephemera: POST /execute is open to anyone who reaches ${url} (and spends ANTHROPIC_API_KEY when set); set EPHEMERA_EXECUTE_TOKEN\n`);
  }
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // The listener stays open for the grace too: until a load balancer has seen /ready fail, it still sends here.
      const [{ stopped }] = await Promise.all([services.admission.drain(), delay(config.drainGraceMs)]);
      if (stopped > 0) process.stderr.write(`ephemera: stopped ${stopped} run(s) at the drain deadline (EXECUTOR_DRAINING)\n`);
      clearInterval(refresher);
      await app.close();
      await services.close();
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void close().then(() => process.exit(0)));
  return { url, close };
}
