// Address arithmetic for IP pools (IP4): a pool's entries — single addresses, "first-last" ranges, CIDR blocks
// (without their network and broadcast addresses) — expanded in order, without the gateway.
import { isIPv4 } from 'node:net';

/** Pools larger than this are refused, so a typo like /8 cannot exhaust the manager's memory. */
export const MAX_POOL_SIZE = 65_536;

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIP(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The pool's addresses in order, or an error naming the bad entry. */
export function expandPool(entries: string[], gateway?: string): { addresses: string[] } | { error: string } {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (from: number, to: number, entry: string): string | undefined => {
    if (to < from) return `"${entry}": the range ends before it starts`;
    if (out.length + (to - from + 1) > MAX_POOL_SIZE) return `the pool has more than ${MAX_POOL_SIZE} addresses`;
    for (let n = from; n <= to; n++) {
      const ip = numberToIP(n);
      if (ip !== gateway && !seen.has(ip)) {
        seen.add(ip);
        out.push(ip);
      }
    }
    return undefined;
  };
  for (const raw of entries) {
    const entry = raw.trim();
    let err: string | undefined;
    const range = /^([^-\s]+)\s*-\s*([^-\s]+)$/.exec(entry);
    const cidr = /^([^/]+)\/(\d+)$/.exec(entry);
    if (range && isIPv4(range[1]!) && isIPv4(range[2]!)) {
      err = add(ipToNumber(range[1]!), ipToNumber(range[2]!), entry);
    } else if (cidr && isIPv4(cidr[1]!) && Number(cidr[2]) <= 32) {
      const prefix = Number(cidr[2]);
      const size = 2 ** (32 - prefix);
      const base = ipToNumber(cidr[1]!) - (ipToNumber(cidr[1]!) % size);
      // /31 and /32 have no network or broadcast address to leave out.
      err = prefix >= 31 ? add(base, base + size - 1, entry) : add(base + 1, base + size - 2, entry);
    } else if (isIPv4(entry)) {
      err = add(ipToNumber(entry), ipToNumber(entry), entry);
    } else {
      err = `"${entry}" is not an IP4 address, range "first-last" or CIDR block`;
    }
    if (err) return { error: err };
  }
  return { addresses: out };
}

/** The IPAddress object name for an address of a pool: unique per address, so the API server arbitrates. */
export function addressObjectName(pool: string, ip: string): string {
  return `${pool}-${ip.replace(/[.:]/g, '-')}`;
}
