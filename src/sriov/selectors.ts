// Which VFs a link may take, as the SR-IOV network device plugin selects
// them: PF names with VF ranges, vendor, device and driver; the first
// selector that matches wins. `pf=NAME#0-3+5` on the command line (a
// device plugin's `NAME#0-3,5`: mn's options are split at commas); for
// pf=auto, /etc/mnkvm/vf-selectors.json where it exists, else the PFs the
// Ansible verify play found (/var/lib/mnkvm/facts.json), else every PF.
import { existsSync, readFileSync } from 'node:fs';
import { MnkvmError } from '../engine/errors.js';
import { findPf, listPfs, listVfs, netdevExists, type Pf, type SysRoots, type Vf } from './sysfs.js';

export const SELECTORS_FILE = '/etc/mnkvm/vf-selectors.json';
export const FACTS_FILE = '/var/lib/mnkvm/facts.json';

/** One selector of the device plugin's resourceList entries. */
export interface Selector { pfNames?: string[]; vendors?: string[]; devices?: string[]; drivers?: string[] }

/** A PF and the VFs of it a link may take. */
export interface Candidates { pf: Pf; vfs: Vf[] }

/** "NAME#0-3+5" -> NAME and the VF indexes (null: all). */
export function parsePfName(spec: string, separator = '+'): { pf: string; indexes: Set<number> | null } {
  const [pf = '', ranges] = spec.split('#');
  if (ranges === undefined) return { pf, indexes: null };
  const indexes = new Set<number>();
  for (const part of ranges.split(separator)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new MnkvmError(`VF range '${ranges}' of ${pf}: give indexes and ranges like ${pf}#0-3${separator}5`);
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) indexes.add(i);
  }
  return { pf, indexes };
}

function matches(vf: Vf, s: Selector): boolean {
  const has = (list: string[] | undefined, value: string | null) => !list || (value !== null && list.includes(value));
  const byPf = !s.pfNames || s.pfNames.some((spec) => {
    const { pf, indexes } = parsePfName(spec, ',');
    return (pf === vf.pf.name || pf === vf.pf.pci) && (!indexes || indexes.has(vf.index));
  });
  return byPf && has(s.vendors, vf.vendor) && has(s.devices, vf.device) && has(s.drivers, vf.driver);
}

/** The VFs of all PFs that the first matching selector takes, grouped by PF. */
export function select(roots: SysRoots, selectors: Selector[]): Candidates[] {
  const all = listPfs(roots).map((pf) => ({ pf, vfs: listVfs(roots, pf) }));
  for (const s of selectors) {
    const chosen = all.map(({ pf, vfs }) => ({ pf, vfs: vfs.filter((v) => matches(v, s)) })).filter((c) => c.vfs.length);
    if (chosen.length) return chosen;
  }
  return [];
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new MnkvmError(`${path}: not valid JSON (${(e as Error).message}): fix or remove it`);
  }
}

/**
 * The candidates for a link's pf option. A named PF that is missing or has
 * no SR-IOV is one line; pf=auto finds none where this machine has no
 * SR-IOV NIC (emulated mode's cue).
 */
export function candidates(roots: SysRoots, pfOption: string, files = { selectors: SELECTORS_FILE, facts: FACTS_FILE }): Candidates[] {
  if (pfOption !== 'auto') {
    const { pf: name, indexes } = parsePfName(pfOption);
    const pf = findPf(roots, name);
    if (!pf) {
      if (netdevExists(roots, name)) {
        throw new MnkvmError(`SR-IOV link: ${name} is not an SR-IOV physical function (no sriov_totalvfs): name a PF (ls /sys/class/net/*/device/sriov_totalvfs)`);
      }
      throw new MnkvmError(`SR-IOV link: no network interface ${name} on this machine: name a PF (ls /sys/class/net/*/device/sriov_totalvfs), or pf=auto`);
    }
    return [{ pf, vfs: listVfs(roots, pf).filter((v) => !indexes || indexes.has(v.index)) }];
  }
  if (existsSync(files.selectors)) {
    const config = readJson(files.selectors) as { selectors?: Selector[] };
    if (!Array.isArray(config.selectors)) throw new MnkvmError(`${files.selectors}: give {"selectors": [{"pfNames": [...], "vendors": [...], "devices": [...], "drivers": [...]}]}`);
    return select(roots, config.selectors);
  }
  if (existsSync(files.facts)) {
    const facts = readJson(files.facts) as { pfs?: { pci: string }[] };
    return select(roots, [{ pfNames: (facts.pfs ?? []).map((p) => p.pci) }]);
  }
  return listPfs(roots).map((pf) => ({ pf, vfs: listVfs(roots, pf) }));
}
