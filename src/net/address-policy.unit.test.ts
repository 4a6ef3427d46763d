import { describe, expect, it } from 'vitest';
import { addressAllowed, classify, hostAllowed, ipLiteral, isLocalhostName, ownAddresses, parseAllowList } from './address-policy.js';

describe('classify', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.0.1', 'private'],
    ['::ffff:192.168.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['fd00:ec2:0::254', 'metadata'],
    ['0.0.0.0', 'reserved'],
    ['::', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['ff02::1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['64:ff9b::a00:1', 'reserved'],
    ['2002:7f00:1::', 'reserved'],
    ['::7f00:1', 'reserved'],
    // IPv4-compatible, as a resolver prints an AAAA answer: not read as the IPv4-mapped ::ffff:8.8.8.8.
    ['::8.8.8.8', 'reserved'],
    ['::808:808', 'reserved'],
  ])('%s is refused as %s', (address, refusal) => {
    expect(classify(address).refusal).toBe(refusal);
  });

  it("refuses this machine's own addresses as loopback, public ones included, in any spelling", () => {
    for (const address of ['203.0.113.7', '::ffff:203.0.113.7', '2001:db8::7', '2001:0db8:0:0::7'])
      expect(classify(address, new Set(['203.0.113.7', '2001:db8:0:0:0:0:0:7'])), address).toMatchObject({ refusal: 'loopback', range: 'own-address' });
    expect(classify('8.8.8.8', new Set(['203.0.113.7'])).refusal).toBeNull();
    // The real interfaces: loopback is among them, normalized.
    expect(ownAddresses()).toContain('127.0.0.1');
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(classify(address)).toMatchObject({ address, refusal: null, range: 'unicast' });
  });

  it('keeps the address as given (what is checked is what is connected to) and its family', () => {
    expect(classify('::ffff:7f00:1')).toMatchObject({ address: '::ffff:7f00:1', family: 6 });
    expect(classify('10.0.0.1')).toMatchObject({ address: '10.0.0.1', family: 4, range: 'private' });
  });
});

describe('URL hosts', () => {
  it('tells IP literals from names', () => {
    expect(ipLiteral('127.0.0.1')).toBe('127.0.0.1');
    expect(ipLiteral('[::ffff:7f00:1]')).toBe('::ffff:7f00:1');
    expect(ipLiteral('data.test')).toBeNull();
    expect(ipLiteral('1')).toBeNull();
  });

  it('knows localhost names', () => {
    for (const name of ['localhost', 'LOCALHOST', 'localhost.', 'api.localhost']) expect(isLocalhostName(name)).toBe(true);
    for (const name of ['localhost.example', 'mylocalhost', 'data.test']) expect(isLocalhostName(name)).toBe(false);
  });
});

describe('the allowlist', () => {
  const allow = parseAllowList([
    'data.internal',
    'files.internal:8443',
    '127.0.0.1:9000',
    '[::1]:9001',
    'fd00::7',
    '10.0.0.0/8',
    'fd00:aa::/32',
    'rooted.internal.:8080',
  ]);

  it('matches hosts by name and literal, on their port when one is given', () => {
    expect(hostAllowed(allow, 'data.internal', 1)).toBe(true);
    expect(hostAllowed(allow, 'DATA.internal.', 443)).toBe(true);
    expect(hostAllowed(allow, 'files.internal', 8443)).toBe(true);
    expect(hostAllowed(allow, 'files.internal', 443)).toBe(false);
    expect(hostAllowed(allow, '127.0.0.1', 9000)).toBe(true);
    expect(hostAllowed(allow, '127.0.0.1', 9002)).toBe(false);
    expect(hostAllowed(allow, '[::1]', 9001)).toBe(true);
    expect(hostAllowed(allow, '[fd00:0::7]', 80)).toBe(true);
    expect(hostAllowed(allow, 'other.internal', 443)).toBe(false);
    expect(hostAllowed(allow, 'rooted.internal', 8080)).toBe(true);
  });

  it('matches addresses by range, IPv4-mapped as IPv4', () => {
    expect(addressAllowed(allow, '10.20.30.40')).toBe(true);
    expect(addressAllowed(allow, '::ffff:10.20.30.40')).toBe(true);
    expect(addressAllowed(allow, 'fd00:aa::1')).toBe(true);
    expect(addressAllowed(allow, '11.0.0.1')).toBe(false);
    expect(addressAllowed(allow, '127.0.0.1')).toBe(false);
  });

  it.each(['10.0.0.0/33', 'not a host', 'http://x', 'x:0', 'x:99999', 'x:y', '[::1]:x', '-bad.example'])('refuses the entry %j', (entry) => {
    expect(() => parseAllowList([entry])).toThrow(entry);
  });
});
