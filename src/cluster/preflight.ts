// Before anything starts on the servers: each one is checked (mnkvm there,
// QEMU, libvirt, KVM, free memory, its data address and MTU, VFs from the
// verify play's facts, its clock against this machine's), and each one
// reaches the others' data addresses. A failure is one line naming the
// server; what it found is one line per server for the user.
import { MnkvmError } from '../engine/errors.js';
import type { ServerConnection } from './connection.js';

/** A VXLAN frame carries a 1500-byte frame with 50 bytes of headers: the data network needs this MTU. */
export const VXLAN_OVERHEAD = 50;
export const MIN_DATA_MTU = 1500 + VXLAN_OVERHEAD;
/** Less free memory than this on a server: nothing useful runs there. */
const MIN_FREE_MIB = 256;

/** What preflight found on a server. */
export interface ServerFacts {
  name: string;
  qemu: string | null;
  libvirt: string | null;
  kvm: boolean;
  freeMiB: number;
  /** The data address and the interface that has it. */
  data: string;
  dataIntf: string;
  mtu: number;
  /** VFs the verify play found (null: no facts there). */
  vfs: number | null;
  /** Its clock minus this machine's, seconds (SSH's round trip included). */
  clockOffset: number;
}

// One round trip: each fact on a line of its own, KEY=VALUE
const PROBE = [
  'echo "mnkvm=$(command -v mnkvm)"',
  'echo "qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -1)"',
  'echo "libvirt=$(virsh --version 2>/dev/null)"',
  'echo "kvm=$(test -c /dev/kvm && echo yes)"',
  'echo "free=$(awk \'/^MemAvailable:/ { print int($2 / 1024) }\' /proc/meminfo)"',
  'echo "ssh=${SSH_CONNECTION:-}"',
  'ip -o -4 addr show | awk \'{ print "addr=" $2 " " $4 }\'',
  'ip -o link show | awk \'{ for (i = 1; i < NF; i++) if ($i == "mtu") print "mtu=" substr($2, 1, length($2) - 1) " " $(i + 1) }\'',
  'echo "facts=$(cat /var/lib/mnkvm/facts.json 2>/dev/null | tr -d \'\\n\')"',
  'echo "time=$(date +%s.%N)"',
].join('; ');

/** Check one server; data: its data address where the user gave it (else the address SSH reached). */
export async function preflight(connection: ServerConnection, data: string | null): Promise<ServerFacts> {
  const name = connection.spec.name;
  const sent = Date.now() / 1000;
  const r = await connection.run(PROBE);
  const received = Date.now() / 1000;
  if (r.code !== 0) throw new MnkvmError(`${name}: the preflight commands failed there (${r.stderr.trim() || `exit ${r.code}`})`);
  const lines = r.stdout.split('\n');
  const one = (key: string) => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1).trim() ?? '';
  const all = (key: string) => lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1).trim().split(' '));
  if (!one('mnkvm')) {
    throw new MnkvmError(`${name}: mnkvm is not installed there: prepare the server with ansible/ (ansible-playbook -i INVENTORY site.yml)`);
  }
  const address = data ?? one('ssh').split(' ')[2] ?? '';
  const intf = all('addr').find(([, cidr]) => cidr.split('/')[0] === address)?.[0];
  if (!intf) {
    throw new MnkvmError(`${name}: no interface there has the data address ${address || '(none)'}: ` +
      'give the address its tunnels should use (user@host reaches it over SSH by that address)');
  }
  const mtu = Number(all('mtu').find(([dev]) => dev === intf)?.[1] ?? 0);
  if (mtu < MIN_DATA_MTU) {
    throw new MnkvmError(`${name}: ${intf} (the data address ${address}) has MTU ${mtu}, and a VXLAN link needs ${MIN_DATA_MTU} ` +
      `to carry a full 1500-byte frame: raise it there (ip link set ${intf} mtu 9000)`);
  }
  const free = Number(one('free'));
  if (free < MIN_FREE_MIB) throw new MnkvmError(`${name}: only ${free} MiB of memory are free there, ${MIN_FREE_MIB} at least are needed: stop what uses it, or leave the server out`);
  let vfs: number | null = null;
  try {
    const facts = JSON.parse(one('facts') || 'null') as { pfs?: { numVfs?: number }[] } | null;
    if (facts) vfs = (facts.pfs ?? []).reduce((n, pf) => n + (pf.numVfs ?? 0), 0);
  } catch {
    vfs = null;
  }
  return {
    name, qemu: one('qemu').replace(/^QEMU emulator version\s*/, '').split(' ')[0] || null, libvirt: one('libvirt') || null,
    kvm: one('kvm') === 'yes', freeMiB: free, data: address, dataIntf: intf, mtu, vfs,
    clockOffset: Number(one('time')) - (sent + received) / 2,
  };
}

/** Each server pings the others' data addresses: a tunnel between two that cannot reach each other would carry nothing. */
export async function checkReach(connections: ServerConnection[], facts: ServerFacts[]): Promise<void> {
  await Promise.all(connections.map(async (from, i) => {
    for (const [j, to] of facts.entries()) {
      if (i === j) continue;
      const r = await from.run(`ping -n -q -c 1 -W 3 ${to.data}`);
      if (r.code !== 0) {
        throw new MnkvmError(`${from.spec.name} cannot reach ${to.name}'s data address ${to.data}: tunnels between them would carry nothing: ` +
          'connect the two (or give each the address the other reaches)');
      }
    }
  }));
}

/** "tb1: QEMU 10.0.2, no libvirt, KVM, 1534 MiB free, data 10.99.0.1 on enp1s0 (MTU 9000), 7 VFs, clock +0.004 s" */
export function describeFacts(f: ServerFacts): string {
  return [`${f.name}: QEMU ${f.qemu ?? 'missing'}`, f.libvirt ? `libvirt ${f.libvirt}` : 'no libvirt', f.kvm ? 'KVM' : 'no KVM (TCG)',
    `${f.freeMiB} MiB free`, `data ${f.data} on ${f.dataIntf} (MTU ${f.mtu})`, f.vfs === null ? 'no VF facts' : `${f.vfs} VFs`,
    `clock ${f.clockOffset >= 0 ? '+' : ''}${f.clockOffset.toFixed(3)} s`].join(', ');
}
