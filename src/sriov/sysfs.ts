// What the kernel says of SR-IOV NICs, read from sysfs under a root that
// is a parameter: '/sys' on a machine, a fixture tree with the kernel's
// layout in unit tests (drivers this machine and the testbed lack: mlx5 in
// switchdev mode, i40e/iavf, ixgbe). Nothing here writes.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Where sysfs and /dev are (a machine's, or a fixture tree's). */
export interface SysRoots { sys: string; dev: string }
export const MACHINE: SysRoots = { sys: '/sys', dev: '/dev' };

/** A physical function: its netdev, PCI address and driver, and its VFs. */
export interface Pf {
  name: string;
  pci: string;
  driver: string | null;
  totalVfs: number;
  numVfs: number;
  /** The NIC's eswitch runs in switchdev mode: each VF has a representor netdev. */
  switchdev: boolean;
}

export interface Vf {
  pf: Pf;
  index: number;
  pci: string;
  driver: string | null;
  vendor: string;
  device: string;
  iommuGroup: string | null;
  /** Its netdev where a host driver has it (igbvf, iavf, mlx5_core...), else null (vfio-pci, unbound). */
  netdev: string | null;
}

export function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function linkName(path: string): string | null {
  try {
    return basename(readlinkSync(path));
  } catch {
    return null;
  }
}

export function pciDir(roots: SysRoots, pci: string): string {
  return join(roots.sys, 'bus/pci/devices', pci);
}

export function driverOf(roots: SysRoots, pci: string): string | null {
  return linkName(join(pciDir(roots, pci), 'driver'));
}

function netdevOf(roots: SysRoots, pci: string): string | null {
  const dir = join(pciDir(roots, pci), 'net');
  return existsSync(dir) ? readdirSync(dir).sort()[0] ?? null : null;
}

/**
 * A PF's eswitch is in switchdev mode when the NIC has representors: netdevs
 * with the PF's phys_switch_id whose phys_port_name names a VF (pf0vf3).
 * (devlink says so too; sysfs is what a fixture tree can show.)
 */
export function representor(roots: SysRoots, pf: Pf, index: number): string | null {
  const switchId = read(join(roots.sys, 'class/net', pf.name, 'phys_switch_id'));
  if (!switchId) return null;
  const net = join(roots.sys, 'class/net');
  for (const dev of readdirSync(net)) {
    if (read(join(net, dev, 'phys_switch_id')) !== switchId) continue;
    const port = read(join(net, dev, 'phys_port_name'));
    if (port && new RegExp(`^(pf\\d+)?vf${index}$`).test(port)) return dev;
  }
  return null;
}

function pfAt(roots: SysRoots, name: string): Pf | null {
  // a VF's representor (switchdev) has its PF's device too: it is not the PF
  if (/^(pf\d+)?vf\d+$/.test(read(join(roots.sys, 'class/net', name, 'phys_port_name')) ?? '')) return null;
  const device = join(roots.sys, 'class/net', name, 'device');
  const total = read(join(device, 'sriov_totalvfs'));
  if (total === null) return null;
  const pci = linkName(device);
  if (!pci) return null;
  const pf: Pf = {
    name, pci, driver: driverOf(roots, pci), totalVfs: Number(total),
    numVfs: Number(read(join(device, 'sriov_numvfs')) ?? 0), switchdev: false,
  };
  pf.switchdev = pf.numVfs > 0 && representor(roots, pf, 0) !== null;
  return pf;
}

/** Every SR-IOV physical function with a netdev, by name. */
export function listPfs(roots: SysRoots): Pf[] {
  const net = join(roots.sys, 'class/net');
  if (!existsSync(net)) return [];
  return readdirSync(net).sort().map((n) => pfAt(roots, n)).filter((p): p is Pf => p !== null);
}

/** Is there a network interface of this name (PF or not)? */
export function netdevExists(roots: SysRoots, name: string): boolean {
  return existsSync(join(roots.sys, 'class/net', name));
}

/** The PF named by its netdev or its PCI address, or null where that is not an SR-IOV PF. */
export function findPf(roots: SysRoots, nameOrPci: string): Pf | null {
  if (/^[0-9a-f]{4}:/.test(nameOrPci)) {
    const name = netdevOf(roots, nameOrPci);
    return name ? pfAt(roots, name) : null;
  }
  return pfAt(roots, nameOrPci);
}

/** A PF's VFs, by index (virtfnN links). */
export function listVfs(roots: SysRoots, pf: Pf): Vf[] {
  const dir = pciDir(roots, pf.pci);
  return readdirSync(dir).filter((e) => /^virtfn\d+$/.test(e))
    .map((e) => Number(e.slice(6))).sort((a, b) => a - b)
    .map((index) => vfAt(roots, pf, index))
    .filter((v): v is Vf => v !== null);
}

export function vfAt(roots: SysRoots, pf: Pf, index: number): Vf | null {
  const pci = linkName(join(pciDir(roots, pf.pci), `virtfn${index}`));
  if (!pci) return null;
  const dir = pciDir(roots, pci);
  return {
    pf, index, pci, driver: driverOf(roots, pci),
    vendor: (read(join(dir, 'vendor')) ?? '').replace(/^0x/, ''),
    device: (read(join(dir, 'device')) ?? '').replace(/^0x/, ''),
    iommuGroup: linkName(join(dir, 'iommu_group')),
    netdev: netdevOf(roots, pci),
  };
}

/** Is a kernel module loaded (or built in)? */
export function moduleLoaded(roots: SysRoots, name: string): boolean {
  return existsSync(join(roots.sys, 'module', name));
}
