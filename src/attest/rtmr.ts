/**
 * RTMR3 event-log replay for dstack CVMs (dstack cc-eventlog, runtime events):
 *   digest = SHA-384(u32le(event_type) ‖ ":" ‖ event ‖ ":" ‖ event_payload)   for event_type 0x08000001
 *   RTMR   = SHA-384(RTMR ‖ digest), from 48 zero bytes, over the events of imr 3 in order
 * Every digest is recomputed from its fields, never taken from the log.
 * Isomorphic (@noble/hashes).
 */
import { sha384 } from '@noble/hashes/sha512';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import { DSTACK_RUNTIME_EVENT_TYPE } from '../events/index.js';

export interface EventLogEntry {
  imr: number;
  event_type: number;
  digest: string;
  event: string;
  event_payload: string;
}

export function runtimeEventDigest(entry: Pick<EventLogEntry, 'event_type' | 'event' | 'event_payload'>): Uint8Array {
  const type = new Uint8Array(4);
  new DataView(type.buffer).setUint32(0, entry.event_type, true);
  return sha384(concatBytes(type, utf8ToBytes(':'), utf8ToBytes(entry.event), utf8ToBytes(':'), hexToBytes(entry.event_payload)));
}

export interface Rtmr3Replay {
  rtmr3: Uint8Array;
  /** Index of the first imr-3 event whose recorded digest is not what its fields give; null when all agree. */
  badDigestAt: number | null;
  /** The first compose-hash event's payload (the one dstack measures at boot). */
  composeHash: string | null;
  /** How often each identity event (compose-hash, app-id, instance-id) occurs: each must occur once. */
  identityEvents: Map<string, number>;
}

/** Events dstack emits once at boot; a container in the CVM can emit any name later, so a second one is a forgery. */
export const IDENTITY_EVENTS = ['compose-hash', 'app-id', 'instance-id'] as const;

export function replayRtmr3(log: readonly EventLogEntry[]): Rtmr3Replay {
  let mr: Uint8Array = new Uint8Array(48);
  let badDigestAt: number | null = null;
  let composeHash: string | null = null;
  const identityEvents = new Map<string, number>();
  log.forEach((entry, index) => {
    if (entry.imr !== 3) return;
    const digest = entry.event_type === DSTACK_RUNTIME_EVENT_TYPE ? runtimeEventDigest(entry) : hexToBytes(entry.digest);
    if (bytesToHex(digest) !== entry.digest.toLowerCase() && badDigestAt === null) badDigestAt = index;
    mr = sha384(concatBytes(mr, digest));
    if ((IDENTITY_EVENTS as readonly string[]).includes(entry.event)) identityEvents.set(entry.event, (identityEvents.get(entry.event) ?? 0) + 1);
    if (entry.event === 'compose-hash' && composeHash === null) composeHash = entry.event_payload.toLowerCase();
  });
  return { rtmr3: mr, badDigestAt, composeHash, identityEvents };
}

/** Test support: an event log entry with its digest computed. */
export function runtimeEvent(event: string, payloadHex: string): EventLogEntry {
  const entry = { imr: 3, event_type: DSTACK_RUNTIME_EVENT_TYPE, event, event_payload: payloadHex, digest: '' };
  return { ...entry, digest: bytesToHex(runtimeEventDigest(entry)) };
}
