import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../events/index.js';
import { reportSteps } from './steps.js';

const event = (type: string, data: Record<string, unknown>) => ({ type, data }) as unknown as EventEnvelope;

describe('reportSteps', () => {
  it('names the lifecycle steps, each tool call and each model turn', () => {
    const lines: string[] = [];
    reportSteps(
      [
        event('sandbox.created', {}),
        event('tool.invoked', { tool: 'scan.py', caller: 'script' }),
        event('llm.called', { model: 'claude-sonnet-4-5', turn: 1, stop_reason: 'tool_use' }),
        event('tool.invoked', { tool: 'bash', caller: 'llm' }),
        event('file.accessed', { path: '/data/x' }),
      ],
      (line) => lines.push(line),
    );
    expect(lines).toEqual(['sandbox created', 'running scan.py', 'model claude-sonnet-4-5, turn 1: tool_use', 'the model calls bash']);
  });

  it('names the call a nested call runs within (a script or the model running the sql command)', () => {
    const lines: string[] = [];
    reportSteps(
      [
        event('tool.invoked', { call_id: 'call_1', tool: 'scan.py', caller: 'script' }),
        event('tool.invoked', { call_id: 'call_2', tool: 'sql', caller: 'script', parent_call_id: 'call_1' }),
        event('tool.invoked', { call_id: 'call_3', tool: 'sql', caller: 'llm' }),
        event('tool.invoked', { call_id: 'call_4', tool: 'sql', caller: 'llm', parent_call_id: 'call\u001b[2J' }),
      ],
      (line) => lines.push(line),
    );
    expect(lines).toEqual(['running scan.py', 'running sql within call_1', 'the model calls sql', 'running sql within call\\x1b[2J']);
  });

  it('prints a name from the events (a server, for watch) as one line without terminal controls', () => {
    const lines: string[] = [];
    reportSteps([event('tool.invoked', { tool: `evil\u001b]0;owned\u0007\nnext${'x'.repeat(200)}`, caller: 'script' })], (line) => lines.push(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(lines[0]).toContain('evil\\x1b]0;owned\\x07\\nnext');
    expect(lines[0]!.length).toBeLessThanOrEqual('running '.length + 80);
  });
});
