// Emulated mode: a labelled stand-in for an SR-IOV NIC where a machine has
// none, made of kernel devices every machine has. The NIC's embedded switch
// is one Linux bridge per VLAN of the plan (this kernel has no VLAN devices
// and its bridges cannot filter VLANs); a "VF" is a veth pair, one end a
// port of its VLAN's bridge, the other the link's interface (a KVM host's
// guest gets a virtio NIC on it, as for a veth link). Every name is claimed
// and recorded before it exists, as for any interface of the root namespace.
import { MnkvmError } from '../engine/errors.js';
import { runOk } from '../engine/proc.js';
import type { RunRecord } from '../engine/records.js';

/** The bridge that stands for the NIC's switch on one VLAN. */
export const vlanBridge = (vlan: number): string => `mkvlan${vlan}`;

export class EmulatedNic {
  private ports = 0;

  constructor(private readonly record: RunRecord) {}

  /** Make VLAN vlan's bridge (once per run: the VLAN's claim is this run's). */
  async bridge(vlan: number): Promise<void> {
    const name = vlanBridge(vlan);
    if (this.record.holds('link', name)) return;
    this.record.claim('link', name);
    this.record.add({ kind: 'bridge', name });
    await runOk('ip', ['link', 'add', name, 'type', 'bridge']);
    await runOk('ip', ['link', 'set', name, 'up']);
  }

  /**
   * A veth pair: intf (with mac, in nsPid's namespace, or the root's where
   * null) and its peer, a port of VLAN vlan's bridge where onBridge (else a
   * port of nothing: a switch's end whose traffic the bridge carries). Returns the peer's name.
   */
  async port(vlan: number, intf: string, nsPid: number | null, mac: string, onBridge: boolean): Promise<string> {
    const peer = this.claimPeer(vlan);
    if (nsPid === null) {
      this.record.claim('link', intf);
      this.record.add({ kind: 'intf', name: intf });
    }
    try {
      await runOk('ip', ['link', 'add', 'name', intf, 'address', mac, ...(nsPid === null ? [] : ['netns', String(nsPid)]),
        'type', 'veth', 'peer', 'name', peer]);
    } catch (e) {
      this.record.release('link', peer);
      if (nsPid === null) this.record.release('link', intf);
      throw new MnkvmError(`SR-IOV link (emulated): cannot make ${intf}: ${(e as Error).message.split('\n')[0]}`);
    }
    await runOk('ip', ['link', 'set', peer, ...(onBridge ? ['master', vlanBridge(vlan)] : []), 'up']);
    return peer;
  }

  /** Delete a port (its pair goes with it) and the bridge where asked. */
  async remove(peer: string): Promise<void> {
    await runOk('ip', ['link', 'del', peer]).catch(() => undefined);
    this.record.release('link', peer);
  }

  async removeBridge(vlan: number): Promise<void> {
    await runOk('ip', ['link', 'del', vlanBridge(vlan)]).catch(() => undefined);
    this.record.release('link', vlanBridge(vlan));
  }

  /** A free name for a bridge-side end: mkv<VLAN>p<N> (the VLAN is this run's, so is the name). */
  private claimPeer(vlan: number): string {
    const name = `mkv${vlan}p${++this.ports}`;
    this.record.claim('link', name);
    this.record.add({ kind: 'intf', name });
    return name;
  }
}
