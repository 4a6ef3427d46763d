/**
 * Which addresses an outbound fetch on a caller's behalf may reach: public
 * unicast only, unless the operator allowlisted the host or the range. The
 * classification is ipaddr.js's (no hand-written ranges besides the cloud
 * metadata addresses); IPv4-mapped IPv6 is unwrapped first, so
 * ::ffff:127.0.0.1 is loopback like 127.0.0.1.
 */
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';

/** The refusal classes, each with its own error code (see REFUSAL_CODES in safe-fetch.ts). */
export type AddressRefusal = 'loopback' | 'private' | 'link-local' | 'metadata' | 'reserved';

/** Instance-metadata services: refused by their own class, whatever range they sit in (fd00:ec2::254 is unique-local). */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200']);

export interface Classified {
  /** The address as it is connected to (an IPv4-mapped IPv6 address stays IPv6: the socket gets what was checked). */
  address: string;
  family: 4 | 6;
  /** ipaddr.js's range name of the (unwrapped) address, or `metadata`. */
  range: string;
  refusal: AddressRefusal | null;
}

/**
 * This machine's own interface addresses: a public one reaches whatever listens
 * on 0.0.0.0 here, past any firewall in front of the host, so it is refused as
 * loopback is.
 */
export function ownAddresses(): Set<string> {
  const own = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const entry of list ?? []) own.add(ipaddr.parse(canonicalText(entry.address.replace(/%.*$/, ''))).toNormalizedString());
  return own;
}

export function classify(address: string, own: ReadonlySet<string> = new Set()): Classified {
  const parsed = ipaddr.parse(canonicalText(address));
  const family = parsed.kind() === 'ipv4' ? 4 : 6;
  const unwrapped = parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
  const normal = unwrapped.toNormalizedString();
  if (METADATA_ADDRESSES.has(normal) || METADATA_ADDRESSES.has(unwrapped.toString())) return { address, family, range: 'metadata', refusal: 'metadata' };
  if (own.has(normal) || own.has(parsed.toNormalizedString())) return { address, family, range: 'own-address', refusal: 'loopback' };
  const range = ipv4Compatible(unwrapped) ? 'ipv4Compatible' : unwrapped.range();
  return { address, family, range, refusal: refusalOf(range) };
}

function refusalOf(range: string): AddressRefusal | null {
  switch (range) {
    case 'unicast':
      return null;
    case 'loopback':
      return 'loopback';
    case 'private':
    case 'uniqueLocal':
    case 'carrierGradeNat':
      return 'private';
    case 'linkLocal':
      return 'link-local';
    default:
      // unspecified, broadcast, multicast, reserved, benchmarking, NAT64/6to4/Teredo (they embed an IPv4 address), …
      return 'reserved';
  }
}

/**
 * IPv6 text as the WHATWG URL parser writes it (::8.8.8.8 becomes ::808:808):
 * ipaddr.js reads a dotted tail after a bare `::` as IPv4-mapped, which would
 * classify the IPv4-compatible address a resolver printed that way by the IPv4
 * address it embeds, while the socket connects to the compatible one.
 */
function canonicalText(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/** ::a.b.c.d (deprecated IPv4-compatible form): ipaddr.js calls it unicast; it embeds an IPv4 address, so it is refused. */
function ipv4Compatible(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (address.kind() !== 'ipv6') return false;
  const parts = (address as ipaddr.IPv6).parts;
  return parts.slice(0, 6).every((p) => p === 0) && (parts[6] !== 0 || parts[7]! > 1);
}

/** An IP literal as it appears in a URL's hostname (brackets stripped), or null for a name. */
export function ipLiteral(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIpText(bare) ? bare : null;
}

/** Dotted-quad IPv4 or IPv6 text only (ipaddr.isValid also takes "1" or "0x7f000001"). */
function isIpText(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
}

/** Names that always mean this machine (RFC 6761): refused before any resolution. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * The operator's allowlist: entries that may be reached although their
 * addresses are not public. `host[:port]` (a DNS name or an IP literal, IPv6 in
 * brackets when a port follows) allows that host, on that port when given;
 * `a.b.c.d/n` or `v6::/n` allows a whole range, any port.
 */
export interface AllowList {
  readonly hosts: readonly { host: string; port: number | null }[];
  readonly ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export const EMPTY_ALLOWLIST: AllowList = { hosts: [], ranges: [] };

/** Parses the allowlist's entries; throws a plain Error naming the first bad entry (config.ts turns it into CONFIG_INVALID). */
export function parseAllowList(entries: readonly string[]): AllowList {
  const hosts: { host: string; port: number | null }[] = [];
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const entry of entries) {
    if (entry.includes('/')) {
      try {
        ranges.push(ipaddr.parseCIDR(entry));
      } catch {
        throw new Error(`not a CIDR range: ${entry}`);
      }
      continue;
    }
    const { host, port } = splitHostPort(entry);
    const isIp = isIpText(host);
    if (Number.isNaN(port) || (port !== null && (port < 1 || port > 65535)) || (!isIp && !DNS_NAME.test(host))) {
      throw new Error(`not a host, host:port or CIDR range: ${entry}`);
    }
    hosts.push({ host: isIp ? ipaddr.parse(host).toString() : host.replace(/\.$/, ''), port });
  }
  return { hosts, ranges };
}

const DNS_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** `[v6]:port`, `[v6]`, bare v6 (no port), `name:port`, `v4:port`, `name`, `v4`. */
function splitHostPort(raw: string): { host: string; port: number | null } {
  const entry = raw.replace(/\.(?=:\d+$|$)/, ''); // a trailing root dot: data.internal. is data.internal
  const portOf = (text: string | undefined) => (text === undefined ? null : /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN);
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!.toLowerCase(), port: portOf(bracketed[2]) };
  const colons = entry.split(':').length - 1;
  if (colons !== 1) return { host: entry.toLowerCase(), port: null };
  const [host, port] = entry.split(':');
  return { host: host!.toLowerCase(), port: portOf(port) };
}

/** Whether the URL's host (and port) is allowlisted by name or literal. */
export function hostAllowed(allow: AllowList, hostname: string, port: number): boolean {
  const literal = ipLiteral(hostname);
  const host = literal !== null ? ipaddr.parse(literal).toString() : hostname.toLowerCase().replace(/\.$/, '');
  return allow.hosts.some((h) => h.host === host && (h.port === null || h.port === port));
}

/** Whether an address lies in an allowlisted range (IPv4-mapped IPv6 compared as IPv4). */
export function addressAllowed(allow: AllowList, address: string): boolean {
  const parsed = ipaddr.process(address);
  return allow.ranges.some(([base, bits]) => base.kind() === parsed.kind() && parsed.match(base, bits));
}
