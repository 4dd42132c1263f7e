// What a NIC's far end needs on this machine before a backend plugs the NIC in:
// tc mirred redirects between a tap and a veth or tunnel end (the Kata
// Containers model), a VXLAN end for a tunnel, a VF's checks for VFIO.
import { existsSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MnkvmError } from './errors.js';
import { nsBatch, run, runOk, type Runner } from './proc.js';
import type { RunRecord } from './records.js';
import type { NicAttachment } from './backend.js';
import { MGMT } from './guest/contract.js';

/** tc lines that send everything arriving on `a` out of `b`, and back. */
export function mirredLines(a: string, b: string): string[] {
  const wire = (from: string, to: string) => [
    `qdisc add dev ${from} ingress`,
    `filter add dev ${from} parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ${to}`,
  ];
  return [...wire(a, b), ...wire(b, a)];
}

/** Join tap and intf (both in nsPid's namespace, on on's machine) into one wire. */
export async function wireTap(nsPid: number, tap: string, intf: string, on: Runner = run): Promise<void> {
  await nsBatch(nsPid, 'ip', [`link set ${tap} up`, `link set ${intf} up`], on);
  await nsBatch(nsPid, 'tc', mirredLines(intf, tap), on);
}

/**
 * The namespace side of a guest's management link (SSH for popen): its tap,
 * mnkvm0, gets the same private address in every namespace. IPv6 off so that
 * no namespace-side interface ever sends traffic of its own.
 */
export async function wireMgmt(nsPid: number, on: Runner = run): Promise<void> {
  await runOk('nsenter', ['-t', String(nsPid), '-n', 'sh', '-c',
    'sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 && ' +
    `ip addr add ${MGMT.host}/${MGMT.prefix} dev mnkvm0 && ip link set mnkvm0 up`], undefined, on);
}

/** intf's MAC in nsPid's namespace (sysfs would show the root namespace: ask ip inside it). */
async function macIn(nsPid: number, intf: string, on: Runner): Promise<string | null> {
  const link = await runOk('nsenter', ['-t', String(nsPid), '-n', 'ip', '-o', 'link', 'show', 'dev', intf], undefined, on).catch(() => '');
  return /link\/ether ([0-9a-f:]{17})/.exec(link)?.[1] ?? null;
}

/**
 * Make a tunnel's VXLAN end in the root namespace, where its UDP socket
 * stays, then move it into nsPid's namespace. Claimed and recorded first:
 * until it is moved, its name is one of the machine's.
 */
async function makeTunnelEnd(nsPid: number, nic: Extract<NicAttachment, { kind: 'tunnel' }>, record: RunRecord): Promise<void> {
  const { intf, vni, local, remote, port, remotePort } = nic;
  record.claim('link', intf);
  record.add({ kind: 'intf', name: intf });
  // nolearning: a point-to-point link sends everything to its one far end (a
  // learnt entry would carry this end's port, wrong where the far end listens on another)
  await runOk('ip', ['link', 'add', intf, 'type', 'vxlan', 'id', String(vni), 'local', local, 'dstport', String(port), 'nolearning'])
    .catch((e: Error) => { throw new MnkvmError(`tunnel ${intf} (VNI ${vni} to ${remote}): ${e.message.split('\n')[0]}`); });
  try {
    // Where everything goes: the far end may listen on another port than this end (two ends on one machine).
    await runOk('bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', intf, 'dst', remote, 'port', String(remotePort)]);
    await runOk('ip', ['link', 'set', intf, 'netns', String(nsPid)]);
  } catch (e) {
    await runOk('ip', ['link', 'del', intf]).catch(() => undefined);
    throw new MnkvmError(`tunnel ${intf}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Check that pci is a device QEMU can pass through: present, bound to
 * vfio-pci, its IOMMU group open to VFIO. One line for each way it is not.
 * (sysfs and dev are parameters for fixture trees of other machines.)
 */
export function checkVfio(pci: string, sysfs = '/sys', dev = '/dev'): void {
  const device = join(sysfs, 'bus/pci/devices', pci);
  if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(pci)) {
    throw new MnkvmError(`VF ${pci}: not a PCI address: give one like 0000:03:10.0 (lspci -D shows them)`);
  }
  if (!existsSync(device)) throw new MnkvmError(`VF ${pci}: no such PCI device on this machine: give a VF's address (ls /sys/class/net/PF/device/virtfn*)`);
  const driver = existsSync(join(device, 'driver')) ? basename(readlinkSync(join(device, 'driver'))) : null;
  if (driver !== 'vfio-pci') {
    throw new MnkvmError(`VF ${pci}: bound to ${driver ?? 'no driver'}, not vfio-pci: bind it to vfio-pci first (driverctl set-override ${pci} vfio-pci)`);
  }
  if (!existsSync(join(device, 'iommu_group'))) {
    throw new MnkvmError(`VF ${pci}: in no IOMMU group: turn the IOMMU on (intel_iommu=on or amd_iommu=on on the kernel command line)`);
  }
  const group = basename(readlinkSync(join(device, 'iommu_group')));
  if (!existsSync(join(dev, 'vfio', group))) {
    throw new MnkvmError(`VF ${pci}: ${join(dev, 'vfio', group)} is missing: load the vfio-pci module (modprobe vfio-pci); every device of IOMMU group ${group} must be with vfio-pci or unbound`);
  }
}

/**
 * Make ready on this machine what nic's far end needs (a tunnel end is
 * made; a VF is checked; a veth end must be there) and return the MAC the
 * guest's NIC must carry. Every backend does this the same way. on: what
 * runs commands where nsPid's namespace is.
 */
export async function prepareFarEnd(host: string, nsPid: number, nic: NicAttachment, record: RunRecord, on: Runner = run): Promise<string> {
  if (nic.kind === 'vf') {
    checkVfio(nic.pci);
    return nic.mac;
  }
  if (nic.kind === 'tunnel') await makeTunnelEnd(nsPid, nic, record);
  const mac = await macIn(nsPid, nic.intf, on);
  if (!mac) throw new MnkvmError(`${host}: no interface ${nic.intf} with a MAC address in its namespace`);
  return mac;
}

/** Remove what prepareFarEnd made: a tunnel end (a veth end stays Mininet's). */
export async function removeFarEnd(nsPid: number, nic: NicAttachment): Promise<void> {
  if (nic.kind === 'tunnel') await nsBatch(nsPid, 'ip', [`link del ${nic.intf}`]).catch(() => undefined);
}
