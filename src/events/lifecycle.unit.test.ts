/** The lifecycle state machine: which event may follow which, and the tool calls it tracks. */
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import type { EventEnvelope, EventType } from './index.js';
import { Lifecycle, type Phase } from './lifecycle.js';

/** Only what the machine reads: type, seq and the call id. */
const event = (type: EventType, seq: number, callId?: string) =>
  ({ type, seq, data: callId === undefined ? {} : { call_id: callId } }) as unknown as EventEnvelope;

/** An event with the data given (the members the machine reads). */
const withData = (type: EventType, seq: number, data: Record<string, unknown>) => ({ type, seq, data }) as unknown as EventEnvelope;

/** A machine fed `types` in order (call ids as given after a colon: "tool.invoked:c1"). */
function machine(...steps: string[]): Lifecycle {
  const lifecycle = new Lifecycle();
  steps.forEach((step, seq) => {
    const [type, callId] = step.split(':');
    lifecycle.apply(event(type as EventType, seq, callId));
  });
  return lifecycle;
}

const violation = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    return { code: error.code, message: error.message, fields: error.fields };
  }
};

const TO_RUNNING = ['execution.requested', 'dataset.loaded', 'sandbox.created'];
const TO_DESTROYED = [...TO_RUNNING, 'execution.completed', 'dataset.deleted', 'sandbox.destroyed'];

describe('Lifecycle', () => {
  describe('when a run goes through every phase in order', () => {
    it('reaches each phase, and remembers the outcome', () => {
      const lifecycle = new Lifecycle();
      expect([lifecycle.phase, lifecycle.outcome, lifecycle.openCalls]).toEqual(['empty', null, 0]);
      const phases: Phase[] = [];
      [...TO_DESTROYED, 'certificate.sealed'].forEach((type, seq) => {
        lifecycle.apply(event(type as EventType, seq));
        phases.push(lifecycle.phase);
      });
      expect(phases).toEqual(['requested', 'loaded', 'running', 'finished', 'dataset_deleted', 'destroyed', 'sealed']);
      expect(lifecycle.outcome).toBe('completed');
    });

    it('records a failure as the outcome', () => {
      expect(machine(...TO_RUNNING, 'execution.failed').outcome).toBe('failed');
    });
  });

  describe('when tool calls are made', () => {
    it('counts calls invoked and not yet completed', () => {
      const lifecycle = machine(
        ...TO_RUNNING,
        'tool.invoked:c1',
        'tool.invoked:c2',
        'tool.completed:c1',
        'file.accessed:c1',
        'network.requested:c2',
        'llm.called',
      );
      expect([lifecycle.phase, lifecycle.openCalls]).toEqual(['running', 1]);
    });

    it('refuses a call id used twice, even after its call completed', () => {
      expect(violation(() => machine(...TO_RUNNING, 'tool.invoked:c1', 'tool.completed:c1', 'tool.invoked:c1'))).toEqual({
        code: 'EVENTS_LIFECYCLE_VIOLATION',
        message: 'events[5] (tool.invoked): call_id c1 reused',
        fields: { seq: 5, field: 'events[5].type' },
      });
    });

    it('refuses a completion of a call that is not open', () => {
      expect(violation(() => machine(...TO_RUNNING, 'tool.invoked:c1', 'tool.completed:c1', 'tool.completed:c1'))?.message).toBe(
        'events[5] (tool.completed): call_id c1 is not open',
      );
      expect(violation(() => machine(...TO_RUNNING, 'tool.completed:c9'))?.message).toBe('events[3] (tool.completed): call_id c9 is not open');
    });

    it.each(['file.accessed', 'network.requested'])('refuses %s naming a call never invoked', (type) => {
      expect(violation(() => machine(...TO_RUNNING, `${type}:c9`))).toEqual({
        code: 'EVENTS_LIFECYCLE_VIOLATION',
        message: `events[3] (${type}): unknown call_id c9`,
        fields: { seq: 3, field: 'events[3].type' },
      });
    });

    it.each(['file.accessed', 'network.requested'])('accepts %s of a call already completed', (type) => {
      expect(machine(...TO_RUNNING, 'tool.invoked:c1', 'tool.completed:c1', `${type}:c1`).phase).toBe('running');
    });

    it('refuses to finish while a call is open', () => {
      expect(violation(() => machine(...TO_RUNNING, 'tool.invoked:c1', 'execution.completed'))?.message).toBe(
        'events[4] (execution.completed): tool calls still open',
      );
      expect(violation(() => machine(...TO_RUNNING, 'tool.invoked:c1', 'execution.failed'))?.message).toBe(
        'events[4] (execution.failed): tool calls still open',
      );
    });
  });

  describe('when an event comes in the wrong phase', () => {
    it.each([
      ['a second request', ['execution.requested', 'execution.requested'], 'events[1] (execution.requested): not allowed after phase requested'],
      ['a load before the request', ['dataset.loaded'], 'events[0] (dataset.loaded): not allowed after phase empty'],
      ['a sandbox before the load', ['execution.requested', 'sandbox.created'], 'events[1] (sandbox.created): not allowed after phase requested'],
      ['a model call before the sandbox', ['execution.requested', 'dataset.loaded', 'llm.called'], 'events[2] (llm.called): not allowed after phase loaded'],
      ['a model call after the end', [...TO_RUNNING, 'execution.completed', 'llm.called'], 'events[4] (llm.called): not allowed after phase finished'],
      [
        'a tool call before the sandbox',
        ['execution.requested', 'dataset.loaded', 'tool.invoked:c1'],
        'events[2] (tool.invoked): not allowed after phase loaded',
      ],
      [
        'a completion before the sandbox',
        ['execution.requested', 'dataset.loaded', 'tool.completed:c1'],
        'events[2] (tool.completed): not allowed after phase loaded',
      ],
      [
        'file activity before the sandbox',
        ['execution.requested', 'dataset.loaded', 'file.accessed:c1'],
        'events[2] (file.accessed): not allowed after phase loaded',
      ],
      [
        'network activity after the end',
        [...TO_RUNNING, 'tool.invoked:c1', 'tool.completed:c1', 'execution.completed', 'network.requested:c1'],
        'events[6] (network.requested): not allowed after phase finished',
      ],
      [
        'a completion without a sandbox',
        ['execution.requested', 'dataset.loaded', 'execution.completed'],
        'events[2] (execution.completed): not allowed after phase loaded',
      ],
      [
        'a second completion',
        [...TO_RUNNING, 'execution.completed', 'execution.completed'],
        'events[4] (execution.completed): not allowed after phase finished',
      ],
      ['a failure after the end', [...TO_RUNNING, 'execution.completed', 'execution.failed'], 'events[4] (execution.failed): not allowed after phase finished'],
      ['a deletion before the end', [...TO_RUNNING, 'dataset.deleted'], 'events[3] (dataset.deleted): not allowed after phase running'],
      [
        'a destruction before the deletion',
        [...TO_RUNNING, 'execution.completed', 'sandbox.destroyed'],
        'events[4] (sandbox.destroyed): not allowed after phase finished',
      ],
      [
        'a seal before the destruction',
        [...TO_RUNNING, 'execution.completed', 'dataset.deleted', 'certificate.sealed'],
        'events[5] (certificate.sealed): not allowed after phase dataset_deleted',
      ],
      ['an event after the seal', [...TO_DESTROYED, 'certificate.sealed', 'dataset.deleted'], 'events[7] (dataset.deleted): not allowed after phase sealed'],
      ['an abort before the request', ['execution.aborted'], 'events[0] (execution.aborted): not allowed after phase empty'],
      [
        'an abort after the seal',
        [...TO_DESTROYED, 'certificate.sealed', 'execution.aborted'],
        'events[7] (execution.aborted): not allowed after phase sealed',
      ],
      ['a second abort', ['execution.requested', 'execution.aborted', 'execution.aborted'], 'events[2] (execution.aborted): not allowed after phase aborted'],
      [
        'a seal after an abort',
        ['execution.requested', 'execution.aborted', 'certificate.sealed'],
        'events[2] (certificate.sealed): not allowed after phase aborted',
      ],
    ])('refuses %s with EVENTS_LIFECYCLE_VIOLATION', (_what, steps, message) => {
      const failure = violation(() => machine(...steps));
      expect(failure).toEqual({ code: 'EVENTS_LIFECYCLE_VIOLATION', message, fields: { seq: steps.length - 1, field: `events[${steps.length - 1}].type` } });
    });

    it('leaves the state as it was', () => {
      const lifecycle = machine(...TO_RUNNING, 'tool.invoked:c1');
      expect(violation(() => lifecycle.apply(event('dataset.deleted', 4)))).not.toBeNull();
      expect([lifecycle.phase, lifecycle.openCalls]).toEqual(['running', 1]);
    });
  });

  describe('when a call is made within another call (parent_call_id)', () => {
    /** A running machine fed tool events with the data given: [type, data] pairs. */
    const nested = (...steps: [EventType, Record<string, unknown>][]) => {
      const lifecycle = machine(...TO_RUNNING);
      for (const [i, [type, data]] of steps.entries()) lifecycle.apply(withData(type, TO_RUNNING.length + i, data));
      return lifecycle;
    };
    const invoked = (call_id: string, parent_call_id?: string, over: Record<string, unknown> = {}) =>
      ['tool.invoked', { call_id, tool: parent_call_id ? 'sql' : 'scan.py', caller: 'script', ...(parent_call_id ? { parent_call_id } : {}), ...over }] as [
        EventType,
        Record<string, unknown>,
      ];
    const completed = (call_id: string) => ['tool.completed', { call_id, exit_code: 0 }] as [EventType, Record<string, unknown>];

    it('accepts calls within an open call, closed before it', () => {
      const lifecycle = nested(invoked('c1'), invoked('c2', 'c1'), invoked('c3', 'c1'), completed('c3'), completed('c2'));
      expect(lifecycle.openCalls).toBe(1);
      lifecycle.apply(withData('tool.completed', 8, { call_id: 'c1', exit_code: 0 }));
      expect(lifecycle.openCalls).toBe(0);
    });

    it.each([
      [
        'of a tool other than sql (only the sql command makes one)',
        [invoked('c1'), invoked('c2', 'c1', { tool: 'bash' })],
        'a call within another is of tool "sql", not "bash"',
      ],
      [
        'within a call that is itself within another',
        [invoked('c1'), invoked('c2', 'c1'), invoked('c3', 'c2')],
        'parent_call_id c2 is itself a call within another',
      ],
      ['of another caller than its parent', [invoked('c1'), invoked('c2', 'c1', { caller: 'llm' })], 'caller llm within a call of caller script'],
      [
        'within an sql call, which runs no process',
        [invoked('c1', undefined, { tool: 'sql' }), invoked('c2', 'c1')],
        'parent_call_id c1 is a call of tool sql, which runs no process',
      ],
      [
        'within a read_file call',
        [invoked('c1', undefined, { tool: 'read_file', caller: 'llm' }), invoked('c2', 'c1', { caller: 'llm' })],
        'parent_call_id c1 is a call of tool read_file, which runs no process',
      ],
    ])('refuses a call within another %s', (_what, steps, why) => {
      expect(violation(() => nested(...(steps as [EventType, Record<string, unknown>][])))?.message).toBe(`events[${2 + steps.length}] (tool.invoked): ${why}`);
    });

    it.each([
      ['a call never invoked', [invoked('c1'), invoked('c2', 'c9')], 'events[4] (tool.invoked): parent_call_id c9 is not an open call'],
      ['a call already completed', [invoked('c1'), completed('c1'), invoked('c2', 'c1')], 'events[5] (tool.invoked): parent_call_id c1 is not an open call'],
      ['itself', [invoked('c1', 'c1')], 'events[3] (tool.invoked): parent_call_id c1 is not an open call'],
    ])('refuses a parent that is %s', (_what, steps, message) => {
      expect(violation(() => nested(...(steps as [EventType, Record<string, unknown>][])))).toEqual({
        code: 'EVENTS_LIFECYCLE_VIOLATION',
        message,
        fields: { seq: 2 + steps.length, field: `events[${2 + steps.length}].type` },
      });
    });

    it('refuses a call completing while a call within it is open, and leaves both open', () => {
      const lifecycle = nested(invoked('c1'), invoked('c2', 'c1'), invoked('c3', 'c1'), completed('c3'));
      expect(violation(() => lifecycle.apply(withData('tool.completed', 7, { call_id: 'c1', exit_code: 0 })))).toEqual({
        code: 'EVENTS_LIFECYCLE_VIOLATION',
        message: 'events[7] (tool.completed): call_id c1 completes while a call within it is still open',
        fields: { seq: 7, field: 'events[7].type' },
      });
      expect(lifecycle.openCalls).toBe(2);
      // Its child done, the parent may complete.
      lifecycle.apply(withData('tool.completed', 7, { call_id: 'c2', exit_code: 0 }));
      lifecycle.apply(withData('tool.completed', 8, { call_id: 'c1', exit_code: 0 }));
      expect(lifecycle.openCalls).toBe(0);
    });

    it('refuses the end of the run while a nested call is open', () => {
      expect(violation(() => nested(invoked('c1'), invoked('c2', 'c1'), ['execution.completed', {}]))?.message).toBe(
        'events[5] (execution.completed): tool calls still open',
      );
    });
  });

  describe('when a call carries an SQL answer (tool.completed.sql)', () => {
    const answered = (tool: string, exit_code: number | null, error_code: string | null) => {
      const lifecycle = machine(...TO_RUNNING);
      lifecycle.apply(withData('tool.invoked', 3, { call_id: 'c1', tool, caller: 'llm' }));
      lifecycle.apply(withData('tool.completed', 4, { call_id: 'c1', exit_code, sql: { rows: 3, bytes: 20, truncated: false, error_code } }));
      return lifecycle;
    };

    it.each([
      [0, null],
      [2, 'SQL_QUERY_REFUSED'],
      [1, 'SQL_RUNNER_FAILED'],
    ])('accepts it on a call of tool sql that exited %s with error_code %s', (exit, code) => {
      expect(answered('sql', exit, code).openCalls).toBe(0);
    });

    it.each(['bash', 'python', 'scan.py', 'SQL'])('refuses it on a call of tool %s', (tool) => {
      expect(violation(() => answered(tool, 0, null))).toEqual({
        code: 'EVENTS_LIFECYCLE_VIOLATION',
        message: `events[4] (tool.completed): sql on a call of tool ${JSON.stringify(tool)}: only a call of tool "sql" has one`,
        fields: { seq: 4, field: 'events[4].type' },
      });
    });

    it.each([
      [2, null, 'sql.error_code null with exit_code 2'],
      [1, null, 'sql.error_code null with exit_code 1'],
      [0, 'SQL_QUERY_INVALID', 'sql.error_code "SQL_QUERY_INVALID" with exit_code 0'],
      [null, null, 'sql.error_code null with exit_code null'],
      [null, 'SQL_QUERY_TIMEOUT', 'sql.error_code "SQL_QUERY_TIMEOUT" with exit_code null'],
    ])('refuses exit_code %s with error_code %s', (exit, code, said) => {
      expect(violation(() => answered('sql', exit, code))?.message).toBe(`events[4] (tool.completed): ${said}: null exactly when the call exited 0`);
    });

    it('accepts a call of tool sql without one (killed before the engine answered)', () => {
      const lifecycle = machine(...TO_RUNNING, 'tool.invoked:c1');
      lifecycle.apply(withData('tool.completed', 4, { call_id: 'c1', exit_code: null, killed_by: 'timeout' }));
      expect(lifecycle.openCalls).toBe(0);
    });
  });

  describe('when a run fails before its sandbox exists', () => {
    it.each([
      ['right after the request', ['execution.requested']],
      ['after the load', ['execution.requested', 'dataset.loaded']],
    ])('accepts the failure %s, then deletion, destruction and the seal', (_when, start) => {
      expect(machine(...start, 'execution.failed', 'dataset.deleted', 'sandbox.destroyed', 'certificate.sealed').phase).toBe('sealed');
    });
  });

  describe('when a run is aborted', () => {
    it.each([
      ['requested', ['execution.requested']],
      ['loaded', ['execution.requested', 'dataset.loaded']],
      ['running', TO_RUNNING],
      ['finished', [...TO_RUNNING, 'execution.completed']],
      ['dataset_deleted', [...TO_RUNNING, 'execution.completed', 'dataset.deleted']],
      ['destroyed', TO_DESTROYED],
    ])('accepts the abort in phase %s', (_phase, steps) => {
      expect(machine(...steps, 'execution.aborted').phase).toBe('aborted');
    });

    it('closes the calls left open', () => {
      const lifecycle = machine(...TO_RUNNING, 'tool.invoked:c1', 'tool.invoked:c2', 'execution.aborted');
      expect([lifecycle.phase, lifecycle.openCalls, lifecycle.outcome]).toEqual(['aborted', 0, null]);
    });
  });
});
