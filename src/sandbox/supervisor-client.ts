/**
 * JSON-lines client for supervisor.py over the sandbox's stdin/stdout.
 * One request at a time per sandbox; each answer carries the request id.
 */
import type { Readable, Writable } from 'node:stream';
import { EphemeraError } from '../errors.js';
import type { RequestBody, SupervisorOp } from './protocol.js';

export type SupervisorReply = Record<string, unknown> & { id: number; ok: boolean; error?: string };

export class SupervisorClient {
  private nextId = 1;
  /** The start of a line not yet ended: pieces, joined once its end comes (a long line is not rescanned per chunk). */
  private partial: string[] = [];
  private readonly pending = new Map<number, { resolve: (r: SupervisorReply) => void; reject: (e: unknown) => void }>();
  private closedError: unknown = null;
  /** Receives the lines the supervisor writes unasked (PROTOCOL.notices); a bad one fails the channel. */
  onNotice: ((notice: Record<string, unknown>) => void) | null = null;

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      let start = 0;
      for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
        this.partial.push(chunk.slice(start, nl));
        const line = this.partial.join('');
        this.partial = [];
        start = nl + 1;
        this.dispatch(line);
      }
      if (start < chunk.length) this.partial.push(chunk.slice(start));
    });
    output.on('close', () => this.fail(new EphemeraError('SANDBOX_DESTROYED', 'the sandbox supervisor exited')));
    input.on('error', (e) => this.fail(e));
  }

  private dispatch(line: string): void {
    let reply: SupervisorReply;
    try {
      reply = JSON.parse(line) as SupervisorReply;
    } catch {
      return; // not ours: the supervisor only writes JSON lines
    }
    if (typeof reply === 'object' && reply !== null && 'notice' in reply) {
      try {
        this.onNotice?.(reply);
      } catch (error) {
        this.fail(error);
      }
      return;
    }
    this.pending.get(reply.id)?.resolve(reply);
    this.pending.delete(reply.id);
  }

  fail(error: unknown): void {
    this.closedError ??= error;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  /** Sends `op` with exactly the members the protocol gives it (protocol.ts). */
  request<Op extends SupervisorOp>(op: Op, body: RequestBody<Op>, timeoutMs: number): Promise<SupervisorReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<SupervisorReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EphemeraError('SANDBOX_UNRESPONSIVE', `the sandbox did not answer ${op} in time`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.input.write(`${JSON.stringify({ ...body, op, id })}\n`);
    });
  }
}
