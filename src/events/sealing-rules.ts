/**
 * The rules of sealed submissions and sealed results that a schema cannot say
 * (docs/sealed.md §4–5, docs/verification.md §4.3), checked on every event
 * after its schema: the executor cannot append, and a verifier does not
 * accept, an event that breaks them.
 *
 * - An outcome event with `sealed_result` shows nothing of the result: its
 *   `result` is the empty one and it has no `stderr_tail`. Otherwise the
 *   sealed output could ride beside its ciphertext in the clear.
 * - `submission.sealed` names what was inside the ciphertext, in the one
 *   order dataset, api_key, sandbox, the dataset always: one spelling per
 *   value, and no certificate claims a sealed run whose dataset was plain
 *   (its dataset_source is then `inline`: a sealed request names no URL).
 * - `dataset.loaded` has `rows` or `rows_absent`, never both, and a `txt`
 *   commitment is never sorted (docs/row-proofs.md §3, §8).
 */
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import type { EventData, EventType } from './types.js';

export type SealingRuleCode = Registered<'EVENTS_SEALED_RESULT_NOT_EMPTY' | 'EVENTS_SUBMISSION_INVALID' | 'EVENTS_ROWS_INVALID'>;

/** What a sealed submission can hold, in the order `submission.sealed` lists it. */
const SEALED_PARTS = ['dataset', 'api_key', 'sandbox'] as const;

/** Throws the rule's code, naming the member, when a (schema-valid) event breaks a sealing rule. */
export function checkSealingRules(event: { type: EventType; data: unknown }, where: string): void {
  const fail = (code: SealingRuleCode, member: string, why: string): never => {
    throw new EphemeraError(code, `${where}.data.${member}: ${why}`, { fields: { field: `${where}.data.${member}` } });
  };
  switch (event.type) {
    case 'execution.requested': {
      const data = event.data as EventData['execution.requested'];
      const sealed = data.submission?.sealed;
      if (!sealed) return;
      // A sealed request's dataset is the ciphertext's bytes: it cannot name a URL (docs/sealed.md §3).
      if (data.dataset_source !== 'inline')
        fail('EVENTS_SUBMISSION_INVALID', 'dataset_source', 'sealed input has its dataset inline (in the ciphertext), never at a URL');
      if (sealed[0] !== 'dataset') fail('EVENTS_SUBMISSION_INVALID', 'submission.sealed', 'must start with "dataset": sealed input seals the dataset');
      let last = -1;
      for (let i = 0; i < sealed.length; i++) {
        const at = SEALED_PARTS.indexOf(sealed[i]!);
        if (at <= last) fail('EVENTS_SUBMISSION_INVALID', `submission.sealed[${i}]`, 'each part once, in the order dataset, api_key, sandbox');
        last = at;
      }
      return;
    }
    case 'dataset.loaded': {
      // One spelling per fact: the records were committed, or the event says why not (docs/row-proofs.md §3).
      const data = event.data as EventData['dataset.loaded'];
      if (data.rows && data.rows_absent) fail('EVENTS_ROWS_INVALID', 'rows_absent', 'rows were committed: rows_absent cannot say they were not');
      if (data.rows && data.rows.sorted_by !== null && data.rows.format === 'txt')
        fail('EVENTS_ROWS_INVALID', 'rows.sorted_by', 'a txt dataset has no sort key');
      return;
    }
    case 'execution.completed':
    case 'execution.failed': {
      const data = event.data as EventData['execution.failed'];
      if (!data.sealed_result) return;
      const r = data.result;
      if (r.output !== '' || r.bytes !== 0 || r.truncated !== false || r.json !== null)
        fail('EVENTS_SEALED_RESULT_NOT_EMPTY', 'result', 'a sealed result leaves the result empty ({output: "", bytes: 0, truncated: false, json: null})');
      if (data.stderr_tail)
        fail('EVENTS_SEALED_RESULT_NOT_EMPTY', 'stderr_tail', 'a sealed result carries the stderr tail inside its ciphertext, not beside it');
      return;
    }
  }
}
