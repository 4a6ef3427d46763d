/**
 * One Server-Sent Events response (text/event-stream), written by hand on the
 * raw response: a few lines, where @fastify/sse would narrow the supported
 * Node (it wants >= 20.20.2) for no feature we need. Each lifecycle event is
 * `id: <seq>`, `event: <type>`, `data: <its canonical JSON>` (one line: JCS
 * escapes every control character); a comment keeps idle proxies from
 * closing it; a client that reads too slowly is cut off (it resumes with
 * Last-Event-ID) rather than buffered without bound.
 */
import type { ServerResponse } from 'node:http';
import { canonicalText, type EventEnvelope } from '../../events/index.js';

/** Buffered but unsent bytes at which a stream is cut (a client that stopped reading). */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** What an EventSource waits before reconnecting after a cut. */
const RETRY_MS = 2000;

export class EventStream {
  private lastSeq: number;
  private closed = false;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly deadline: NodeJS.Timeout;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly response: ServerResponse,
    options: { after: number; keepAliveMs: number; maxDurationMs: number },
  ) {
    this.lastSeq = options.after;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // nginx and friends: pass each event on as it comes.
      'x-accel-buffering': 'no',
      // Never reused for another request: the socket goes with the stream, however it ends (a server closing waits for none).
      connection: 'close',
    });
    response.write(`retry: ${RETRY_MS}\n\n`);
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), options.keepAliveMs);
    this.deadline = setTimeout(() => {
      this.write(': time limit reached; reconnect with Last-Event-ID to go on\n\n');
      this.close();
    }, options.maxDurationMs);
    response.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs when the stream closes, however it closes (the client left, the end was sent, the server stops). */
  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  /** Sends the events after the last one sent (a resumed stream skips what its client has). */
  send(events: readonly EventEnvelope[]): void {
    for (const event of events) {
      if (event.seq <= this.lastSeq) continue;
      this.lastSeq = event.seq;
      this.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${canonicalText(event)}\n\n`);
    }
  }

  /** The last message: how the run ended. Then the stream closes. */
  end(summary: unknown): void {
    this.write(`event: end\ndata: ${JSON.stringify(summary)}\n\n`);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    clearTimeout(this.deadline);
    this.response.end();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private write(text: string): void {
    if (this.closed) return;
    this.response.write(text);
    if (this.response.writableLength > MAX_BUFFERED_BYTES) this.close();
  }
}
