// br_netfilter: where the module is loaded (libvirtd loads it, and Docker),
// every frame a Linux bridge forwards also passes iptables, arptables and
// ip6tables. Every packet of a measurement pays for it, and a FORWARD policy
// of DROP (Docker sets one) drops bridged traffic. Mininet warns once per
// table ("Linux bridge may not work with ..."); mnkvm says it once, in one
// line that says what it costs and how to turn it off, and the benchmark's
// fingerprint records it.
import { existsSync, readFileSync } from 'node:fs';

const TABLES = ['iptables', 'ip6tables', 'arptables'] as const;

/** The tables bridged traffic passes here ([] where br_netfilter is not loaded or is off). */
export function bridgeNetfilterTables(): string[] {
  return TABLES.filter((table) => {
    const path = `/proc/sys/net/bridge/bridge-nf-call-${table}`;
    return existsSync(path) && readFileSync(path, 'utf8').trim() === '1';
  });
}

/** The one line to say where bridged traffic passes the firewall, or null. */
export function bridgeNetfilterNotice(): string | null {
  const tables = bridgeNetfilterTables();
  if (tables.length === 0) return null;
  return `br_netfilter is loaded (libvirtd loads it): bridged traffic passes ${tables.join(', ')}, which every packet pays for ` +
    `and a FORWARD policy of DROP drops; turn it off with sysctl -w ${tables.map((t) => `net.bridge.bridge-nf-call-${t}=0`).join(' ')}`;
}
