/**
 * The lifecycle state machine (docs/design.md §7). The executor enforces it
 * while it appends and the verifier replays it over a certificate's events:
 * one machine for both.
 *
 *   execution.requested → [dataset.loaded → [sandbox.created → activity*]]
 *     → execution.completed (needs sandbox.created) | execution.failed → dataset.deleted
 *     → sandbox.destroyed → certificate.sealed
 *   … any unsealed phase → execution.aborted (terminal, never sealed)
 *
 * activity = llm.called | tool.invoked | tool.completed | file.accessed | network.requested
 * A fold with constant work per event: the sets of calls are updated in
 * place (copying them per event made a stream of n calls cost n²), so one
 * machine follows one stream and is not shared. No I/O, no clock. It also
 * holds the one rule across two events a schema cannot say: a row commitment
 * is of the requested dataset format (EVENTS_ROWS_INVALID).
 *
 * Nested calls and SQL answers (docs/sql-tool.md §8): a `parent_call_id` names
 * a call open at that point, and a call never completes while a call within it
 * is open (so nesting is a tree that closes inward), is itself no call within
 * another (one level), and is of the same caller; a call within another is of
 * tool "sql" (only the `sql` command makes one); `tool.completed.sql` is
 * only on a call of tool "sql", which has an exit code, 0 exactly when the
 * engine answered (`error_code` null).
 */
import { EphemeraError } from '../errors.js';
import type { EventEnvelope } from './envelope.js';

export type Phase = 'empty' | 'requested' | 'loaded' | 'running' | 'finished' | 'dataset_deleted' | 'destroyed' | 'sealed' | 'aborted';

/** A call invoked and not yet completed: its tool and caller, its parent, and how many calls within it are open. */
interface OpenCall {
  tool: string;
  caller: string;
  parent: string | null;
  children: number;
}

/** Calls no process of the sandbox runs for (a query, the model's read-only helpers): none can make a call within it. */
const NO_PROCESSES = new Set(['sql', 'list_files', 'read_file']);

export class Lifecycle {
  private current: Phase = 'empty';
  private result: 'completed' | 'failed' | null = null;
  /** Tool calls invoked and not yet completed. */
  private readonly open = new Map<string, OpenCall>();
  /** Every call id seen so far. */
  private readonly known = new Set<string>();
  /** The requested dataset format: a row commitment is of that format (docs/row-proofs.md §3). */
  private format: string | null = null;

  get phase(): Phase {
    return this.current;
  }

  get outcome(): 'completed' | 'failed' | null {
    return this.result;
  }

  get openCalls(): number {
    return this.open.size;
  }

  /** Applies one event or throws EVENTS_LIFECYCLE_VIOLATION naming it; the state is unchanged on a throw. */
  apply(event: EventEnvelope): void {
    const violation = (why: string): never => {
      throw new EphemeraError('EVENTS_LIFECYCLE_VIOLATION', `events[${event.seq}] (${event.type}): ${why}`, {
        fields: { seq: event.seq, field: `events[${event.seq}].type` },
      });
    };
    const expectPhase = (...phases: Phase[]) => {
      if (!phases.includes(this.current)) violation(`not allowed after phase ${this.current}`);
    };

    switch (event.type) {
      case 'execution.requested':
        expectPhase('empty');
        this.current = 'requested';
        this.format = event.data.dataset_format;
        return;
      case 'dataset.loaded':
        expectPhase('requested');
        if (event.data.rows && event.data.rows.format !== this.format)
          throw new EphemeraError(
            'EVENTS_ROWS_INVALID',
            `events[${event.seq}].data.rows.format: ${event.data.rows.format}, but the dataset is ${this.format}`,
            {
              fields: { seq: event.seq, field: `events[${event.seq}].data.rows.format` },
            },
          );
        this.current = 'loaded';
        return;
      case 'sandbox.created':
        expectPhase('loaded');
        this.current = 'running';
        return;
      case 'llm.called':
        expectPhase('running');
        return;
      case 'tool.invoked': {
        const d = event.data;
        expectPhase('running');
        if (this.known.has(d.call_id)) violation(`call_id ${d.call_id} reused`);
        const parent = d.parent_call_id === undefined ? undefined : this.open.get(d.parent_call_id);
        if (d.parent_call_id !== undefined && !parent) violation(`parent_call_id ${d.parent_call_id} is not an open call`);
        // Only the `sql` command makes a call within another: of tool sql, one level deep, for its parent's caller.
        if (parent) {
          if (d.tool !== 'sql') violation(`a call within another is of tool "sql", not ${JSON.stringify(d.tool)}`);
          if (parent.parent !== null) violation(`parent_call_id ${d.parent_call_id} is itself a call within another`);
          if (NO_PROCESSES.has(parent.tool)) violation(`parent_call_id ${d.parent_call_id} is a call of tool ${parent.tool}, which runs no process`);
          if (parent.caller !== d.caller) violation(`caller ${d.caller} within a call of caller ${parent.caller}`);
        }
        this.known.add(d.call_id);
        this.open.set(d.call_id, { tool: d.tool, caller: d.caller, parent: d.parent_call_id ?? null, children: 0 });
        if (parent) parent.children += 1;
        return;
      }
      case 'tool.completed': {
        const d = event.data;
        expectPhase('running');
        const call = this.open.get(d.call_id);
        if (!call) return violation(`call_id ${d.call_id} is not open`);
        if (call.children > 0) violation(`call_id ${d.call_id} completes while a call within it is still open`);
        if (d.sql) {
          if (call.tool !== 'sql') violation(`sql on a call of tool ${JSON.stringify(call.tool)}: only a call of tool "sql" has one`);
          // The engine exits 0 answering a query, 2 refusing it, 1 failing (SQL_RUNNER_FAILED): no code exactly on 0.
          if (d.exit_code === null || (d.sql.error_code === null) !== (d.exit_code === 0))
            violation(`sql.error_code ${JSON.stringify(d.sql.error_code)} with exit_code ${d.exit_code}: null exactly when the call exited 0`);
        }
        this.open.delete(d.call_id);
        if (call.parent !== null) this.open.get(call.parent)!.children -= 1;
        return;
      }
      case 'file.accessed':
      case 'network.requested':
        expectPhase('running');
        if (!this.known.has(event.data.call_id)) violation(`unknown call_id ${event.data.call_id}`);
        return;
      case 'execution.completed':
      case 'execution.failed':
        // A run can fail before the sandbox exists (it could not start); it can only complete inside one.
        if (event.type === 'execution.failed') expectPhase('requested', 'loaded', 'running');
        else expectPhase('running');
        if (this.open.size > 0) violation('tool calls still open');
        this.current = 'finished';
        this.result = event.type === 'execution.completed' ? 'completed' : 'failed';
        return;
      case 'dataset.deleted':
        expectPhase('finished');
        this.current = 'dataset_deleted';
        return;
      case 'sandbox.destroyed':
        expectPhase('dataset_deleted');
        this.current = 'destroyed';
        return;
      case 'certificate.sealed':
        expectPhase('destroyed');
        this.current = 'sealed';
        return;
      case 'execution.aborted':
        // Ends a stream whose executor died or whose certificate failed its own check; never sealed afterwards.
        expectPhase('requested', 'loaded', 'running', 'finished', 'dataset_deleted', 'destroyed');
        this.current = 'aborted';
        this.open.clear();
        return;
    }
  }
}
