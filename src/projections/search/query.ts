/**
 * What a certificate search may ask for: the filters, sort columns, page
 * bound and time syntax. No store here, so the CLI can declare its options
 * (and print --help) without loading ClickHouse.
 */
import { EphemeraError } from '../../errors.js';

export const MAX_PAGE = 100;
/** What a search for one executor may name (projections/executor.ts derives the value). */
export const EXECUTOR_PATTERN = /^(?:sha256:[0-9a-f]{64}|compose:[0-9a-f]{1,128}|mrtd:[0-9a-f]{1,128})$/;
export const SORTS = { requested_at: "DateTime64(3, 'UTC')", execution_time_ms: 'UInt64', sealed_at: "DateTime64(3, 'UTC')" } as const;
/** RFC 3339 date (UTC midnight) or date-time with its zone (no `Date.parse` leniency, no local time); times must fall in DateTime64's range, 1900…2299. */
export const RFC3339 = '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$';
export interface SearchQuery {
  status?: string;
  model?: string;
  tool?: string;
  dataset_hash?: string;
  sandbox_hash?: string;
  fingerprint?: string;
  /** Who ran it (projections/executor.ts): a key fingerprint, compose:… or mrtd:…. */
  executor?: string;
  /** How the input arrived (docs/sealed.md §4). */
  input?: 'plain' | 'sealed';
  /** Whether the result is sealed to its owner (docs/sealed.md §5). */
  result?: 'clear' | 'sealed';
  from?: string;
  to?: string;
  q?: string;
  sort?: keyof typeof SORTS;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

export function isoOrThrow(value: string, field: string): string {
  const ms = new RegExp(RFC3339).test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms) || ms < Date.UTC(1900, 0, 1) || ms >= Date.UTC(2300, 0, 1))
    throw new EphemeraError('REQUEST_INVALID', `querystring.${field}: expected an RFC 3339 time`, { fields: { field: `querystring.${field}` } });
  return new Date(ms).toISOString();
}
