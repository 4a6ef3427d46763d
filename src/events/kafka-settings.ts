/**
 * Producer settings the Kafka log insists on (docs/design.md §3, THREATS D28):
 * acks = all (-1), idempotent, one request in flight (ordering under
 * retries), bounded retries so a dead broker fails the run instead of hanging.
 * The service refuses to start with anything weaker.
 */
import { EphemeraError } from '../errors.js';

export interface ProducerSettings {
  idempotent: boolean;
  acks: number;
  maxInFlightRequests: number;
  retries: number;
  requestTimeoutMs: number;
}

export const REQUIRED_PRODUCER_SETTINGS: ProducerSettings = {
  idempotent: true,
  acks: -1,
  maxInFlightRequests: 1,
  retries: 5,
  requestTimeoutMs: 10_000,
};

export function assertProducerSettings(settings: ProducerSettings): void {
  const weak =
    (settings.idempotent !== true && 'idempotent must be true') ||
    (settings.acks !== -1 && 'acks must be -1 (all in-sync replicas)') ||
    (settings.maxInFlightRequests !== 1 && 'maxInFlightRequests must be 1') ||
    ((!Number.isSafeInteger(settings.retries) || settings.retries < 1 || settings.retries > 20) && 'retries must be bounded, 1…20');
  if (weak) throw new EphemeraError('LOG_MISCONFIGURED', `refusing to start the Kafka log: ${weak}`);
}
