/**
 * The rule for the dstack app's images: pinned by digest, written out in
 * full, no tag, no variable (a variable would let the host choose what runs
 * under a trusted compose hash).
 */
import { parseDocument } from 'yaml';

export const PINNED_IMAGE = /^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*@sha256:[0-9a-f]{64}$/;

/** The compose text with the ephemera service's image replaced (comments and layout kept). */
export function pinImage(composeText: string, reference: string): string {
  if (!PINNED_IMAGE.test(reference)) throw new Error('expected <registry>/<name>@sha256:<64 lowercase hex>');
  const document = parseDocument(composeText);
  document.setIn(['services', 'ephemera', 'image'], reference);
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}
