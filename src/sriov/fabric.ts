// SriovFabric: what a run's SR-IOV links are made of (the engine's
// LinkFabric). What a link means:
// - between two KVM hosts: a VF each, on one PF, meeting in the NIC's
//   embedded switch on a VLAN of the link's own;
// - from a KVM host (or a namespace host) to a switch: every SR-IOV end of
//   that switch shares the switch's VLAN, so the NIC's switch joins them;
//   the switch's first SR-IOV link also gives it a PF-side port (a VLAN
//   device of the PF, or in emulated mode a port of the VLAN's bridge), which
//   the software switch bridges to its veth links; its later SR-IOV links
//   give it a port that carries nothing (two ports on one VLAN would make a
//   loop through the software switch);
// - a namespace host's end is a VF's netdev moved into its namespace;
// - between two switches: refused here (their VLANs are two NIC switches);
//   SRIOVLink makes such a link a veth pair without asking the fabric.
// Hardware mode takes VFs from the pool (pool.ts); emulated mode, where no
// SR-IOV NIC exists, makes the stand-in of emulated.ts; `mode=auto` picks
// emulated where pf=auto finds no PF, and says so once.
import { randomBytes } from 'node:crypto';
import type { NicAttachment, Notice } from '../engine/backend.js';
import { MnkvmError } from '../engine/errors.js';
import type { LinkFabric, SriovEnd, SriovLinkMade, SriovMode } from '../engine/links.js';
import type { SriovLinkOptions } from '../engine/options.js';
import { nsBatch, run, runOk } from '../engine/proc.js';
import type { RunRecord } from '../engine/records.js';
import { EmulatedNic } from './emulated.js';
import { VfPool } from './pool.js';
import { candidates, type Candidates } from './selectors.js';
import { MACHINE, type SysRoots, type Vf } from './sysfs.js';

/** What a link took, to give back in reverse. */
type Taken = { kind: 'vf'; vf: Vf } | { kind: 'port'; peer: string } | { kind: 'vlan'; key: string } | { kind: 'switch'; node: string; ported: boolean };

/** A switch's SR-IOV plan: where its links run (as its first link's plan), and whether it has its PF-side port. */
interface SwitchPlan extends LinkPlan { vlanKey: string; ported: boolean; links: number }

/** Where a link runs: its mode, PF and the VFs it may take (hardware), VLAN. */
interface LinkPlan { mode: SriovMode; pf: string; candidates: Candidates | null; vlan: number }

/** Locally administered, unicast. */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** VLANs vlan=auto takes from, here and between servers (across.ts); 1 is many switches' default, left alone. */
export const VLANS = { first: 100, last: 4094 };

export class SriovFabric implements LinkFabric {
  private readonly pool: VfPool;
  private readonly emulated: EmulatedNic;
  private readonly switches = new Map<string, SwitchPlan>();
  private readonly links = new Map<string, Taken[]>();
  /** How many of this run's links (and switches) use each VLAN (by claim name). */
  private readonly vlanUsers = new Map<string, number>();

  constructor(
    private readonly record: RunRecord,
    private readonly notice: (line: string, level?: Notice['level']) => void,
    private readonly roots: SysRoots = MACHINE,
  ) {
    this.pool = new VfPool(record, roots);
    this.emulated = new EmulatedNic(record);
  }

  async link(id: string, ends: [SriovEnd, SriovEnd], options: SriovLinkOptions): Promise<SriovLinkMade> {
    if (this.links.has(id)) throw new MnkvmError(`SR-IOV link ${id} exists already`);
    if (ends[0].role === 'switch' && ends[1].role === 'switch') {
      throw new MnkvmError(`SR-IOV link ${ends[0].node}-${ends[1].node}: both ends are switches: join switches with a veth link (an SR-IOV link has a host at one end at least)`);
    }
    const taken: Taken[] = [];
    this.links.set(id, taken);
    try {
      const plan = this.plan(ends, options, taken);
      const vfKnobs = (['rate', 'spoofchk', 'trust'] as const).filter((knob) => options[knob] !== null);
      if (plan.mode === 'emulated' && vfKnobs.length) {
        this.notice(`SR-IOV link ${ends[0].node}-${ends[1].node}: ${vfKnobs.join(', ')}: a VF's settings, and an emulated link has no VF: left out`, 'warn');
      }
      const made: SriovLinkMade['ends'] = [];
      for (const end of ends) made.push(await this.end(end, plan, options, taken));
      return { mode: plan.mode, pf: plan.pf, vlan: plan.vlan, ends: made, notices: [] };
    } catch (e) {
      await this.unlink(id);
      throw e;
    }
  }

  async half(id: string, end: SriovEnd, options: SriovLinkOptions, vlan: number): Promise<SriovLinkMade> {
    if (this.links.has(id)) throw new MnkvmError(`SR-IOV link ${id} exists already`);
    if (end.role === 'switch') {
      throw new MnkvmError(`SR-IOV link to ${end.node} on another server: between servers an SR-IOV link joins two hosts: place the host with its switch (server=), or use a veth link`);
    }
    const taken: Taken[] = [];
    this.links.set(id, taken);
    try {
      const chosen = candidates(this.roots, options.pf).find((c) => c.vfs.length);
      if (!chosen) throw new MnkvmError(`SR-IOV link ${id}: ${options.pf} (the PF cabled to the other server) has no VFs here: give it VFs (ansible/'s sriov role), or use a veth link`);
      this.claimVlan(chosen.pf.pci, vlan, taken);
      const plan = { mode: 'hardware' as const, pf: chosen.pf.name, candidates: chosen, vlan, switchPlan: null };
      const made = await this.end(end, plan, options, taken);
      return { mode: 'hardware', pf: plan.pf, vlan, ends: [made], notices: [] };
    } catch (e) {
      await this.unlink(id);
      throw e;
    }
  }

  async unlink(id: string): Promise<void> {
    const taken = this.links.get(id);
    if (!taken) return;
    this.links.delete(id);
    for (const t of [...taken].reverse()) {
      if (t.kind === 'vf') await this.pool.give(t.vf);
      else if (t.kind === 'port') await this.emulated.remove(t.peer);
      else if (t.kind === 'vlan') await this.dropVlan(t.key);
      else await this.leaveSwitch(t.node, t.ported);
    }
  }

  /** Where the link runs: its mode, PF (candidates) and VLAN. */
  private plan(ends: [SriovEnd, SriovEnd], options: SriovLinkOptions, taken: Taken[]): LinkPlan & { switchPlan: SwitchPlan | null } {
    const sw = ends.find((e) => e.role === 'switch');
    const existing = sw ? this.switches.get(sw.node) : undefined;
    if (existing) {
      if (options.vlan !== 'auto' && options.vlan !== existing.vlan) {
        throw new MnkvmError(`SR-IOV link to ${sw!.node}: vlan=${options.vlan}, but ${sw!.node}'s SR-IOV links are on VLAN ${existing.vlan} (all of a switch's are on one): leave vlan= out`);
      }
      this.useVlan(existing.vlanKey, taken);
      existing.links++;
      taken.push({ kind: 'switch', node: sw!.node, ported: false });
      return { ...existing, switchPlan: existing };
    }
    const found = options.mode === 'emulated' ? [] : candidates(this.roots, options.pf);
    const mode = this.mode(options, found);
    if (mode === 'hardware' && !found.length) {
      throw new MnkvmError('SR-IOV link, mode=hardware: no SR-IOV PF with VFs found on this machine: name one with pf=NAME, or use mode=emulated');
    }
    const chosen = found.find((c) => c.vfs.length) ?? found[0] ?? null;
    const pf = chosen ? chosen.pf.name : 'emulated';
    const { vlan, key } = this.claimVlan(chosen ? chosen.pf.pci : 'emulated', options.vlan, taken);
    const switchPlan = sw ? { mode, pf, candidates: chosen, vlan, vlanKey: key, ported: false, links: 1 } : null;
    if (sw && switchPlan) {
      this.switches.set(sw.node, switchPlan);
      taken.push({ kind: 'switch', node: sw.node, ported: false });
    }
    if (mode === 'hardware') this.notice(`SR-IOV links: VFs of ${pf} (${chosen!.pf.driver ?? 'no driver'}): a KVM host's passed through with VFIO, a namespace host's as its interface`);
    return { mode, pf, candidates: chosen, vlan, switchPlan };
  }

  /** mode=auto: hardware where the link's pf finds a PF (found), else emulated (said once). */
  private mode(options: SriovLinkOptions, found: Candidates[]): SriovMode {
    if (options.mode !== 'auto') return options.mode;
    if (options.pf !== 'auto' || found.length) return 'hardware';
    this.notice('SR-IOV links are emulated: this machine has no SR-IOV NIC (a bridge per VLAN stands for the NIC\'s switch, virtio NICs for VFs): their timings are not SR-IOV\'s', 'warn');
    return 'emulated';
  }

  /** The link's VLAN: the one asked for, or the first free from 100; claimed per PF (two runs never share one). */
  private claimVlan(pf: string, asked: number | 'auto', taken: Taken[]): { vlan: number; key: string } {
    const first = asked === 'auto' ? VLANS.first : asked;
    const last = asked === 'auto' ? VLANS.last : asked;
    let clash: Error | null = null;
    for (let vlan = first; vlan <= last; vlan++) {
      const key = `${pf}:${vlan}`;
      if (this.vlanUsers.has(key)) {
        if (asked === 'auto') continue;
        throw new MnkvmError(`SR-IOV link: VLAN ${vlan} is another link's of this network: give each link its own, or vlan=auto`, 'clash', { vlan });
      }
      try {
        this.record.claim('vlan', key);
      } catch (e) {
        if ((e as MnkvmError).kind !== 'clash') throw e;
        clash = e as Error;
        continue;
      }
      this.useVlan(key, taken);
      return { vlan, key };
    }
    if (asked !== 'auto') throw clash!;   // (another run's: a clash, which a link between servers answers with the next VLAN)
    throw new MnkvmError(`SR-IOV link: no free VLAN on ${pf} (${VLANS.first} to ${VLANS.last} are taken)`);
  }

  private useVlan(key: string, taken: Taken[]): void {
    this.vlanUsers.set(key, (this.vlanUsers.get(key) ?? 0) + 1);
    taken.push({ kind: 'vlan', key });
  }

  /** A link of switch node is gone (ported: with the switch's PF-side port: its next link makes one); with its last, the switch's plan. */
  private async leaveSwitch(node: string, ported: boolean): Promise<void> {
    const plan = this.switches.get(node);
    if (!plan) return;
    if (ported) plan.ported = false;
    else if (--plan.links === 0) this.switches.delete(node);
  }

  private async dropVlan(key: string): Promise<void> {
    const users = (this.vlanUsers.get(key) ?? 1) - 1;
    if (users > 0) {
      this.vlanUsers.set(key, users);
      return;
    }
    this.vlanUsers.delete(key);
    const [pf, vlan] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
    if (pf === 'emulated') await this.emulated.removeBridge(vlan);
    this.record.release('vlan', key);
  }

  /** One end: a VF (hardware) or a bridge port (emulated), as its role needs. */
  private async end(end: SriovEnd, plan: ReturnType<SriovFabric['plan']>, options: SriovLinkOptions, taken: Taken[]):
    Promise<{ nic: NicAttachment | null; mac: string }> {
    const mac = end.mac ?? randomMac();
    // a switch's first SR-IOV end is its PF-side port; its later ones carry nothing
    const connected = end.role !== 'switch' || !plan.switchPlan!.ported;
    if (end.role === 'switch' && connected) {
      plan.switchPlan!.ported = true;
      taken.push({ kind: 'switch', node: end.node, ported: true });
    }
    const nsPid = end.role === 'switch' ? null : end.nsPid;
    if (plan.mode === 'emulated' || !connected) {
      if (plan.mode === 'emulated') await this.emulated.bridge(plan.vlan);
      const peer = await this.emulated.port(plan.vlan, end.intf, nsPid, mac, connected && plan.mode === 'emulated');
      taken.push({ kind: 'port', peer });
      return { nic: end.role === 'kvm' ? { kind: 'tap', intf: end.intf } : null, mac };
    }
    if (end.role === 'switch') {
      // the PF's own port on the switch's VLAN (a VF cannot be a bridge port:
      // the NIC gives it only frames for its own MAC)
      await this.pfVlanPort(plan.candidates!.pf.name, plan.vlan, end.intf);
      taken.push({ kind: 'port', peer: end.intf });
      return { nic: null, mac };
    }
    const settings = { vlan: plan.vlan, mac, rate: options.rate, spoofchk: options.spoofchk, trust: options.trust };
    const got = await this.pool.take(plan.candidates!, end.role === 'kvm' ? 'passthrough' : 'netdev', settings);
    taken.push({ kind: 'vf', vf: got.vf });
    if (end.role === 'kvm') return { nic: { kind: 'vf', intf: end.intf, pci: got.vf.pci, mac }, mac };
    // a namespace host's end: the VF's netdev, in its namespace
    await runOk('ip', ['link', 'set', got.netdev!, 'netns', String(nsPid)]);
    await nsBatch(nsPid!, 'ip', [`link set ${got.netdev!} name ${end.intf}`, `link set ${end.intf} up`]);
    return { nic: null, mac };
  }

  /** A VLAN device of pf on vlan, named intf (the switch's port), claimed and recorded first; the PF up. */
  private async pfVlanPort(pf: string, vlan: number, intf: string): Promise<void> {
    this.record.claim('link', intf);
    this.record.add({ kind: 'intf', name: intf });
    await run('modprobe', ['8021q']);
    try {
      await runOk('ip', ['link', 'add', 'link', pf, 'name', intf, 'type', 'vlan', 'id', String(vlan)]);
    } catch (e) {
      this.record.release('link', intf);
      throw new MnkvmError(`SR-IOV link: cannot give the switch a port on ${pf} VLAN ${vlan} (${(e as Error).message.split('\n')[0]}): load the 8021q module`);
    }
    await runOk('ip', ['link', 'set', pf, 'up']);
    await runOk('ip', ['link', 'set', intf, 'up']);
  }
}
