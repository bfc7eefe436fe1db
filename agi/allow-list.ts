/**
 * Who may open a FastAGI connection: a list of addresses and CIDR blocks
 * (`agi.allow_from`), IPv4 and IPv6. IPv4-mapped IPv6 peers (`::ffff:10.0.0.5`, what a
 * dual-stack listener reports) are matched as the IPv4 address they are.
 */
import { BlockList, isIP } from 'node:net';

/** `allowed(address)`, or a list of what is wrong with the entries. */
export function createAllowList(entries: readonly string[]): { allowed(address: string | undefined): boolean } | { problems: string[] } {
  const list = new BlockList();
  const problems: string[] = [];
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const bits = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (family === 0 || extra !== undefined || !(bits >= 0 && bits <= max)) {
      problems.push(`allow_from entry "${entry}" is not an IP address or CIDR block (e.g. 10.0.0.5, 10.0.0.0/24, ::1)`);
      continue;
    }
    list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  if (problems.length > 0) return { problems };
  // BlockList.check builds a SocketAddress per call (microseconds per connection):
  // the few addresses Asterisk connects from are answered from a bounded memo.
  const memo = new Map<string, boolean>();
  return {
    allowed(address) {
      if (!address) return false;
      const known = memo.get(address);
      if (known !== undefined) return known;
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
      const plain = mapped?.[1] ?? address;
      const family = isIP(plain);
      const verdict = family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
      if (memo.size < 1024) memo.set(address, verdict);
      return verdict;
    },
  };
}
