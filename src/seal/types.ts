/**
 * The shared types of sealed submissions (docs/sealed.md), apart from the
 * code so that every module of src/seal/ imports them without a cycle.
 */
import type { Attestation, SealSuite, Submission, SealedResult, RunResult, StderrTail, Hash } from '../events/index.js';
import type { TeeDescription } from '../attest/attestor.js';
import type { VerifyOptions } from '../verify/index.js';
import type { AeadInterface } from '@hpke/core';

export const SEALED_REQUEST_CONTENT_TYPE = 'application/vnd.ephemera.sealed-request';
export const KEY_DOCUMENT_PATH = '/.well-known/ephemera-seal-key.json';
export const DEFAULT_CHUNK_BYTES = 1 << 20;

/** Where the AEAD comes from: WebCrypto (browser, default) or node:crypto (node-aead.ts). */
export interface SealCrypto {
  /** An @hpke/core AeadInterface for AES-256-GCM (id 0x0002). */
  aes256gcm: () => AeadInterface;
}

export interface KeyStatement {
  type: 'ephemera.key-statement';
  v: 1;
  suite: SealSuite;
  public_key: string;
  key_id: Hash;
  node: string;
  tee: TeeDescription;
  not_before: string;
  not_after: string;
}

export interface KeyDocument {
  statement: KeyStatement;
  statement_hash: Hash;
  report_data: string;
  attestation: Attestation;
}

export interface KeyPolicy extends VerifyOptions {
  /** Maximum age of the key (now − not_before), ms; default 24 h. */
  maxKeyAgeMs?: number;
  now?: () => Date;
}

export interface VerifiedKey {
  document: KeyDocument;
  /** How the key is trusted (pinned key, local key, hardware policy), for the user to read. */
  trust: { basis: 'pinned-key' | 'local-key' | 'hardware-policy'; reason: string };
}

export interface SealedRequestHeader {
  type: 'ephemera.sealed-request';
  v: 1;
  key_id: Hash;
  suite: SealSuite;
  enc: string;
  chunk_bytes: number;
  plaintext_bytes: number;
  /** `rows` absent means "input" (docs/row-proofs.md §6); a header never spells the default. */
  dataset: { format: 'csv' | 'json' | 'txt'; allow_empty: boolean; rows?: RowsRequest };
  sandbox: Record<string, unknown> | null;
  result_recipient: string | null;
}

/** How a request asks its records to be committed (docs/row-proofs.md §6). */
export type RowsRequest = 'input' | 'none' | { sorted_by: string };

export interface SealRequestInput {
  dataset: Uint8Array;
  format: 'csv' | 'json' | 'txt';
  allowEmpty?: boolean;
  /** How the records are committed (default "input", not written into the header). */
  rows?: RowsRequest;
  sandbox: Record<string, unknown>;
  /** Put the sandbox description inside the ciphertext (default: in the clear, authenticated). */
  sealSandbox?: boolean;
  apiKey?: string | null;
  resultRecipient?: string | null;
  chunkBytes?: number;
}

export interface OpenedRequest {
  header: SealedRequestHeader;
  apiKey: string | null;
  sandbox: Record<string, unknown>;
  /** A view into the plaintext buffer: zero `plaintext` when done. */
  dataset: Uint8Array;
  plaintext: Uint8Array;
  submission: Submission;
  /** The row secret both ends derive from the HPKE context (docs/row-proofs.md §7): zero it with the plaintext. */
  rowSecret: Uint8Array;
}

/** `ephemera keygen`'s file: an X25519 key pair for sealed results, raw keys in hex (docs/sealed.md §5). */
export interface ResultKeyFile {
  type: 'ephemera.result-key';
  suite: 'x25519-aes256gcm';
  public_key: string;
  private_key: string;
}

/** What openSealedResult needs of a certificate (the format helper's Certificate type has these members). */
export interface SealedCertificate {
  execution_id: string;
  result: { result_hash: string | null; sealed?: SealedResult };
}

export type { Submission, SealedResult, RunResult, StderrTail };
