import { describe, expect, it } from 'vitest';
import { keyIdentity, trustOfKey } from './trust.js';

const KEY = keyIdentity('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const OTHER = keyIdentity('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');

describe('whom a pin trusts', () => {
  it('trusts a key pinned as itself, by its fingerprint, or by the fingerprint without sha256: (as people copy it)', () => {
    for (const pin of [KEY.public_key, KEY.fingerprint, KEY.fingerprint.slice('sha256:'.length), ` ${KEY.fingerprint.toUpperCase()} `])
      expect(trustOfKey(KEY, { trustedKeys: [pin] })).toMatchObject({ trusted: true, basis: 'pinned-key' });
  });

  it('trusts no other key by any of those pins', () => {
    for (const pin of [KEY.public_key, KEY.fingerprint, KEY.fingerprint.slice('sha256:'.length)])
      expect(trustOfKey(OTHER, { trustedKeys: [pin] })).toMatchObject({ trusted: false, basis: null });
  });
});
