// Ansible inventories for ansible/ (INI): of the virtual testbed, or of
// real servers from a description file (docs/testbed.md):
//
//   user: root                       # optional
//   key: /root/.ssh/id_ed25519       # optional
//   servers:
//     - name: srv1
//       address: 192.0.2.10
//       port: 22                     # optional
//       iommu: intel                 # optional: auto, intel, amd, off
//       measurement_cores: [2, 3]    # optional
//       hugepages: 512               # optional
//       pfs:
//         - { pci: "0000:03:00.0", vfs: 4 }
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { MnkvmError } from '../engine/errors.js';

export interface InventoryServer {
  name: string;
  address: string;
  port: number;
  iommu: 'auto' | 'intel' | 'amd' | 'off';
  cores: number[];
  hugepages: number;
  pfs: { pci: string; vfs: number }[];
}

export interface Inventory { servers: InventoryServer[]; user: string; key: string | null; sshArgs: string | null }

/** The INI text: a host line per server (its address, PFs, cores), and what they share. */
export function renderInventory(inv: Inventory, title: string): string {
  return [
    `# ${title}`,
    '[testbed]',
    ...inv.servers.map((s) => [
      s.name, `ansible_host=${s.address}`, `ansible_port=${s.port}`,
      `sriov_pfs='${JSON.stringify(s.pfs)}'`, `kernel_iommu=${s.iommu}`,
      `kernel_isolated_cores='${JSON.stringify(s.cores)}'`, `kernel_hugepages=${s.hugepages}`,
    ].join(' ')),
    '',
    '[testbed:vars]',
    `ansible_user=${inv.user}`,
    ...(inv.key ? [`ansible_ssh_private_key_file=${inv.key}`] : []),
    ...(inv.sshArgs ? [`ansible_ssh_common_args='${inv.sshArgs}'`] : []),
    'ansible_python_interpreter=/usr/bin/python3',
    '',
  ].join('\n');
}

/** The servers a description file (YAML) names, checked: one line for each mistake. */
export function describedInventory(path: string): Inventory {
  if (!existsSync(path)) throw new MnkvmError(`${path} not found: give a description of the servers (docs/testbed.md)`);
  // (PyYAML comes with Ansible)
  const r = spawnSync('/usr/bin/python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new MnkvmError(`${path}: not YAML (${r.stderr.trim().split('\n').at(-1)})`);
  const doc = JSON.parse(r.stdout) as Record<string, unknown> | null;
  const bad = (what: string): never => { throw new MnkvmError(`${path}: ${what} (docs/testbed.md shows the format)`); };
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.servers) || doc.servers.length === 0) bad('no servers: list them under servers:');
  const servers = (doc!.servers as Record<string, unknown>[]).map((s, i): InventoryServer => {
    const where = `server ${i + 1}${typeof s?.name === 'string' ? ` (${s.name})` : ''}`;
    if (typeof s?.name !== 'string' || !/^[\w.-]+$/.test(s.name)) bad(`${where}: a name (letters, digits, . _ -) is missing`);
    if (typeof s.address !== 'string' || !s.address) bad(`${where}: an address is missing`);
    const port = s.port ?? 22;
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) bad(`${where}: port ${String(port)} is no TCP port`);
    const iommu = s.iommu ?? 'auto';
    if (!['auto', 'intel', 'amd', 'off'].includes(iommu as string)) bad(`${where}: iommu ${String(iommu)}: use auto, intel, amd or off`);
    const cores = s.measurement_cores ?? [];
    if (!Array.isArray(cores) || !cores.every((c) => Number.isInteger(c) && c >= 0)) bad(`${where}: measurement_cores must be a list of core numbers`);
    const hugepages = s.hugepages ?? 0;
    if (!Number.isInteger(hugepages) || (hugepages as number) < 0) bad(`${where}: hugepages must be a whole number`);
    if (!Array.isArray(s.pfs)) bad(`${where}: pfs is missing: list its SR-IOV NICs' PCI addresses and VF counts`);
    const pfs = (s.pfs as Record<string, unknown>[]).map((pf) => {
      if (typeof pf?.pci !== 'string' || !/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(pf.pci)) {
        const seen = typeof pf?.pci === 'number' ? `${pf.pci} (YAML read an address without quotes as a number)` : String(pf?.pci);
        bad(`${where}: PF ${seen} is no PCI address: write it as "0000:03:00.0" (lspci -D), in quotes`);
      }
      if (!Number.isInteger(pf.vfs) || (pf.vfs as number) < 0 || (pf.vfs as number) > 256) bad(`${where}: PF ${String(pf.pci)}: vfs must be a whole number from 0 to 256`);
      return { pci: pf.pci as string, vfs: pf.vfs as number };
    });
    return { name: s.name as string, address: s.address as string, port: port as number, iommu: iommu as InventoryServer['iommu'], cores: cores as number[], hugepages: hugepages as number, pfs };
  });
  const names = servers.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) bad(`two servers are named ${twice}`);
  const user = doc!.user ?? 'root';
  const key = doc!.key ?? null;
  if (typeof user !== 'string' || (key !== null && typeof key !== 'string')) bad('user and key must be strings');
  return { servers, user: user as string, key: key as string | null, sshArgs: null };
}
