// The VF pool: SR-IOV virtual functions taken for a run's links and given
// back. The order is sriov-cni's, which works across drivers: lock the VF
// (a claim: one run at a time; a VF whose run ended waits for `mnkvm -c`),
// save its state and record how to put it back (before anything changes),
// then VLAN, admin MAC (through the PF: a VF that is not trusted cannot
// change it from the guest), rate, spoofchk, trust; then the driver: vfio-pci
// for passthrough (after the MAC: the reset at bind applies it, as Kata
// does), or the VF's own driver for a netdev on this machine. Given back,
// the knobs go back first (trust last), then the driver.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MnkvmError } from '../engine/errors.js';
import { checkVfio } from '../engine/nics.js';
import { run, runOk } from '../engine/proc.js';
import type { RunRecord } from '../engine/records.js';
import type { RestoreStep } from '../engine/sweep.js';
import type { Candidates } from './selectors.js';
import { driverOf, moduleLoaded, pciDir, read, vfAt, type Pf, type SysRoots, type Vf } from './sysfs.js';

/** The knobs a link sets on its VFs through the PF (ip link set PF vf N ...); null: left as it is. */
export interface VfSettings { vlan: number; mac: string; rate: number | null; spoofchk: boolean | null; trust: boolean | null }

/** A VF's knobs as the PF reports them (ip -j link show PF: vfinfo_list). */
export interface VfState { mac: string; vlan: number; qos: number; rate: number; spoofchk: boolean | null; trust: boolean | null }

type Knob = 'vlan' | 'mac' | 'rate' | 'spoofchk' | 'trust';
/** Each knob's `ip link set PF vf N` words. Trust last: some drivers refuse the others' reset with trust off. */
const KNOBS: Record<Knob, (s: VfState | VfSettings) => string[] | null> = {
  vlan: (s) => ['vlan', String(s.vlan), ...('qos' in s ? ['qos', String(s.qos)] : [])],
  mac: (s) => ['mac', s.mac],
  rate: (s) => (s.rate === null ? null : ['max_tx_rate', String(s.rate)]),
  spoofchk: (s) => (s.spoofchk === null ? null : ['spoofchk', s.spoofchk ? 'on' : 'off']),
  trust: (s) => (s.trust === null ? null : ['trust', s.trust ? 'on' : 'off']),
};
const KNOB_ORDER: Knob[] = ['vlan', 'mac', 'rate', 'spoofchk', 'trust'];
/** What a knob is called in a link's options (for the one line a refused knob gets). */
const OPTION_OF: Record<Knob, string> = { vlan: 'vlan', mac: 'the MAC', rate: 'rate', spoofchk: 'spoofchk', trust: 'trust' };

/** How a taken VF is used: passed through into a VM, or as a netdev of this machine (a namespace host's, a switch's port). */
export type VfUse = 'passthrough' | 'netdev';

export interface TakenVf { vf: Vf; mac: string; netdev: string | null }

/** How the PF sees each VF now (ip's JSON). */
export async function pfVfStates(pf: string): Promise<Map<number, VfState>> {
  const out = await runOk('ip', ['-j', 'link', 'show', 'dev', pf]);
  const [link] = JSON.parse(out) as { vfinfo_list?: Record<string, unknown>[] }[];
  const states = new Map<number, VfState>();
  for (const v of link?.vfinfo_list ?? []) {
    const vlans = (v.vlan_list as { vlan?: number; qos?: number }[] | undefined) ?? [];
    const rate = v.rate as { max_tx?: number } | undefined;
    states.set(Number(v.vf), {
      mac: String(v.address ?? v.mac ?? '00:00:00:00:00:00'),
      vlan: vlans[0]?.vlan ?? 0, qos: vlans[0]?.qos ?? 0,
      rate: rate?.max_tx ?? Number(v.max_tx_rate ?? 0),
      spoofchk: typeof v.spoofchk === 'boolean' ? v.spoofchk : null,
      trust: typeof v.trust === 'boolean' ? v.trust : null,
    });
  }
  return states;
}

/**
 * Wait until a VF's netdev carries mac: a driver applies the MAC its PF set
 * when the VF next resets, which i40e/iavf do a moment later (sriov-cni
 * retries for this). One line if it does not within timeoutMs.
 */
export async function netdevTakesMac(roots: SysRoots, pci: string, netdev: string, mac: string, timeoutMs = 5000): Promise<void> {
  const path = join(pciDir(roots, pci), 'net', netdev, 'address');
  for (const deadline = Date.now() + timeoutMs; ;) {
    if (read(path)?.toLowerCase() === mac.toLowerCase()) return;
    if (Date.now() > deadline) throw new MnkvmError(`VF ${pci}: its interface ${netdev} did not take MAC ${mac} within ${timeoutMs / 1000} s (it has ${read(path) ?? 'none'}): reload its driver`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class VfPool {
  /** Knobs each PF (by name) was found to refuse, probed once. */
  private readonly refused = new Map<string, Set<Knob>>();

  constructor(private readonly record: RunRecord, private readonly roots: SysRoots) {}

  /**
   * Take a free VF of candidates for use, set as settings say. One line
   * for each way it cannot be: none left, a knob the driver refuses, VFIO
   * not ready.
   */
  async take(candidates: Candidates, use: VfUse, settings: VfSettings): Promise<TakenVf> {
    const { pf } = candidates;
    if (use === 'passthrough') this.checkVfioReady(pf);
    const vf = this.claimFree(candidates);
    try {
      const states = await pfVfStates(pf.name);
      const saved = states.get(vf.index);
      if (!saved) throw new MnkvmError(`PF ${pf.name}: ip link show reports no VF ${vf.index}: is ${pf.driver ?? 'its driver'} loaded?`);
      await this.probe(pf, vf, saved, settings);
      const rebinds = this.rebinds(vf, use);
      this.record.add({ kind: 'restore', what: `VF ${vf.pci}`, steps: this.restoreSteps(vf, saved, settings, rebinds) });
      for (const knob of KNOB_ORDER) {
        const words = KNOBS[knob](settings);
        if (words) await this.setKnob(pf, vf, knob, words);
      }
      await this.checkMac(vf, settings.mac);
      const netdev = await this.bind(vf, use, settings.mac, rebinds);
      return { vf: vfAt(this.roots, pf, vf.index) ?? vf, mac: settings.mac, netdev };
    } catch (e) {
      await this.give(vf);
      throw e;
    }
  }

  /** Give a VF back: its knobs as they were, then its driver; then its claim. */
  async give(vf: Vf): Promise<void> {
    await this.record.restoreNow(`VF ${vf.pci}`);
    this.record.release('vf', vf.pci);
  }

  /** The first VF of candidates no run holds, claimed for this run. */
  private claimFree({ pf, vfs }: Candidates): Vf {
    if (!vfs.length) {
      throw new MnkvmError(pf.numVfs === 0
        ? `PF ${pf.name} has no VFs: make some (echo ${pf.totalVfs} > /sys/class/net/${pf.name}/device/sriov_numvfs, or the sriov Ansible role)`
        : `PF ${pf.name}: none of its VFs is in the link's range: widen pf=${pf.name}#...`);
    }
    const held: string[] = [];
    for (const vf of vfs) {
      if (this.record.holds('vf', vf.pci)) continue;   // this run's own
      try {
        this.record.claim('vf', vf.pci);
        return vf;
      } catch (e) {
        if ((e as MnkvmError).kind !== 'clash') throw e;
        held.push((e as Error).message);
      }
    }
    throw new MnkvmError(`PF ${pf.name}: no free VF (${vfs.length} in range, ${held.length} held by other mnkvm runs, the rest by this one): ` +
      `stop a run, make more VFs, or use another PF${held.length ? ` (${held[0]})` : ''}`);
  }

  /** VFIO can take a VF of pf: its modules loaded, the IOMMU on. */
  private checkVfioReady(pf: Pf): void {
    for (const module of ['vfio_pci', 'vfio_iommu_type1']) {
      if (!moduleLoaded(this.roots, module)) {
        throw new MnkvmError(`SR-IOV link: the ${module} module is not loaded: modprobe ${module.replace('_', '-')} (the sriov Ansible role loads it at boot)`);
      }
    }
    if (!existsSync(join(this.roots.sys, 'kernel/iommu_groups')) || !existsSync(join(pciDir(this.roots, pf.pci), 'iommu_group'))) {
      throw new MnkvmError(`SR-IOV link: the IOMMU is off on this machine (PF ${pf.name} is in no IOMMU group): add intel_iommu=on (or amd_iommu=on) iommu=pt to the kernel command line and reboot (the kernel Ansible role does)`);
    }
  }

  /**
   * Which knobs pf's driver takes, tried once per PF on a VF with the
   * values it has (nothing changes): a knob the link asks for and the
   * driver refuses is one line, before the VF changes.
   */
  private async probe(pf: Pf, vf: Vf, saved: VfState, settings: VfSettings): Promise<void> {
    let refused = this.refused.get(pf.name);
    if (!refused) {
      refused = new Set();
      for (const knob of KNOB_ORDER) {
        const words = KNOBS[knob](saved);
        if (words && (await run('ip', ['link', 'set', pf.name, 'vf', String(vf.index), ...words])).code !== 0) refused.add(knob);
      }
      this.refused.set(pf.name, refused);
    }
    for (const knob of KNOB_ORDER) {
      if (KNOBS[knob](settings) && refused.has(knob)) {
        throw new MnkvmError(`PF ${pf.name} (${pf.driver ?? 'no driver'}) refuses to set ${OPTION_OF[knob]} of its VFs: leave ${knob === 'mac' ? 'it' : `${knob}= out of the link's options`}` +
          (knob === 'vlan' && pf.switchdev ? ' (in switchdev mode VLANs belong to the software switch: put the NIC in legacy mode)' : ''));
      }
    }
  }

  private async setKnob(pf: Pf, vf: Vf, knob: Knob, words: string[]): Promise<void> {
    const r = await run('ip', ['link', 'set', pf.name, 'vf', String(vf.index), ...words]);
    if (r.code !== 0) {
      // (a knob the driver has but not for this value, e.g. igb's max_tx_rate above the link's speed)
      const why = r.stderr.trim().split('\n')[0];
      const fix = knob === 'rate' ? `give a rate (Mbit/s) the PF takes, at most its link speed (ethtool ${pf.name}), or leave rate= out`
        : knob === 'mac' ? 'give the host another MAC' : `leave ${knob}= out of the link's options`;
      throw new MnkvmError(`PF ${pf.name} (${pf.driver ?? 'no driver'}): VF ${vf.index}: ${OPTION_OF[knob]} ${words.slice(1).join(' ')} refused (${why}): ${fix}`);
    }
  }

  /** The PF applies a MAC at once or (i40e/iavf) a moment later: read it back until it is there. */
  private async checkMac(vf: Vf, mac: string): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const now = (await pfVfStates(vf.pf.name)).get(vf.index)?.mac;
      if (now?.toLowerCase() === mac.toLowerCase()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new MnkvmError(`PF ${vf.pf.name}: VF ${vf.index} did not take MAC ${mac} within 5 s`);
  }

  /** Must vf change driver for use? */
  private rebinds(vf: Vf, use: VfUse): boolean {
    const current = driverOf(this.roots, vf.pci);
    return use === 'passthrough' ? current !== 'vfio-pci' : current === null || current === 'vfio-pci';
  }

  /**
   * How to put vf back as saved: its driver if it changes (first: a VF
   * driver still bound would answer a MAC reset with a random MAC of its
   * own), then the knobs the link sets, trust last.
   */
  private restoreSteps(vf: Vf, saved: VfState, settings: VfSettings, rebinds: boolean): RestoreStep[] {
    const steps: RestoreStep[] = [];
    const dir = pciDir(this.roots, vf.pci);
    const override = read(join(dir, 'driver_override'));
    if (rebinds) steps.push(
      { write: join(dir, 'driver_override'), value: override && override !== '(null)' ? override : '\n' },
      { write: join(dir, 'driver/unbind'), value: vf.pci },
      { write: join(this.roots.sys, 'bus/pci/drivers_probe'), value: vf.pci },
    );
    for (const knob of KNOB_ORDER) {
      const words = KNOBS[knob](settings) && KNOBS[knob](saved);
      if (words) steps.push({ run: ['ip', 'link', 'set', vf.pf.name, 'vf', String(vf.index), ...words] });
    }
    return steps;
  }

  /** The VF's own driver (its module, loaded), from its modalias. */
  private async ownDriver(vf: Vf): Promise<string> {
    const alias = read(join(pciDir(this.roots, vf.pci), 'modalias')) ?? '';
    const module = (await run('modprobe', ['-R', alias])).stdout.trim().split('\n')[0];
    if (!module || (await run('modprobe', [module])).code !== 0) {
      throw new MnkvmError(`VF ${vf.pci}: no driver module for it on this machine (${vf.vendor}:${vf.device}): install its driver (igbvf, ixgbevf, iavf, mlx5_core)`);
    }
    return module.replace(/-/g, '_');
  }

  /** Bind vf to the driver use needs (driver_override, unbind, drivers_probe, as Kata does) where it rebinds; the netdev it has then, if any. */
  private async bind(vf: Vf, use: VfUse, mac: string, rebinds: boolean): Promise<string | null> {
    const dir = pciDir(this.roots, vf.pci);
    if (rebinds) {
      // named in driver_override either way: a PF whose sriov_drivers_autoprobe
      // is off (as for VFs meant for VFIO) probes no VF that names no driver
      const want = use === 'passthrough' ? 'vfio-pci' : await this.ownDriver(vf);
      writeFileSync(join(dir, 'driver_override'), want);
      if (driverOf(this.roots, vf.pci)) writeFileSync(join(dir, 'driver/unbind'), vf.pci);
      try {
        writeFileSync(join(this.roots.sys, 'bus/pci/drivers_probe'), vf.pci);
      } catch {
        // no driver took it: said below
      }
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { driver, netdev } = vfAt(this.roots, vf.pf, vf.index) ?? vf;
      if (use === 'passthrough' && driver === 'vfio-pci') {
        checkVfio(vf.pci, this.roots.sys, this.roots.dev);   // its IOMMU group open to VFIO
        return null;
      }
      if (use === 'netdev' && driver && driver !== 'vfio-pci' && netdev) {
        await run('udevadm', ['settle', '--timeout=10']);   // udev renames a new netdev: after it, not under our rename
        const named = vfAt(this.roots, vf.pf, vf.index)?.netdev ?? netdev;
        await netdevTakesMac(this.roots, vf.pci, named, mac);
        return named;
      }
      if (Date.now() > deadline) {
        throw new MnkvmError(use === 'passthrough'
          ? `VF ${vf.pci}: vfio-pci did not take it: modprobe vfio-pci, and check dmesg`
          : `VF ${vf.pci}: no driver gave it a network interface within 10 s (driver: ${driver ?? 'none'}): install its driver's module (igbvf, ixgbevf, iavf, mlx5_core)`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
