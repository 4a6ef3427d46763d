/**
 * Which executor ran an execution, as one searchable value derived from its
 * stream (the certificate format is unchanged): the simulated attestor's key
 * fingerprint `sha256:<hex>` (what readers pin, as src/verify computes it), or
 * for dstack/TDX the build it ran, `compose:<hex>` (else its TD measurement,
 * `mrtd:<hex>`). '' when the stream does not say (a v1 stream, a run that
 * never started a sandbox and was never sealed).
 */
import type { EventEnvelope } from '../events/index.js';
import { keyFingerprint } from '../verify/index.js';

const HEX = /^[0-9a-f]{1,128}$/;
const hex = (value: unknown): string | null => {
  if (typeof value !== 'string') return null;
  const normalized = value.toLowerCase().replace(/^0x/, '');
  return HEX.test(normalized) ? normalized : null;
};

export function executorOf(events: readonly EventEnvelope[]): string {
  const created = events.find((e) => e.type === 'sandbox.created');
  const tee = (created?.data as { runtime?: { tee?: object } } | undefined)?.runtime?.tee;
  const fromSeal = (events.find((e) => e.type === 'certificate.sealed')?.data as { attestation?: object } | undefined)?.attestation;
  return executorOfTee(tee) || executorOfTee(fromSeal);
}

/** From a TEE description (sandbox.created's runtime.tee, an attestor's own) or a simulated attestation. */
export function executorOfTee(tee: object | undefined): string {
  const described = tee as Record<string, unknown> | undefined;
  if (described?.type === 'simulated' && typeof described.public_key === 'string' && /^[0-9a-f]{64}$/.test(described.public_key))
    return keyFingerprint(described.public_key);
  if (described?.type === 'dstack') {
    const compose = hex(described.compose_hash);
    if (compose) return `compose:${compose}`;
    const mrtd = hex((described.measurements as Record<string, unknown> | undefined)?.mrtd);
    if (mrtd) return `mrtd:${mrtd}`;
  }
  return '';
}
