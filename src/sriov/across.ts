// SR-IOV links whose ends are on the run's servers (--servers): each
// server's own fabric (fabric.ts, run by its keeper there: src/cluster/
// keeper.ts) makes the ends on it, in that server's record, so that what a
// link took is swept with the rest there. A link within a server is that
// server's whole; a link between two is a half on each: a VF on each one's
// cabled PF, on one VLAN, claimed on both, where the two VFs meet on the
// cable.
import { randomInt } from 'node:crypto';
import type { Servers } from '../engine/calls.js';
import type { MnkvmError } from '../engine/errors.js';
import type { ServersFabric, SriovEnd, SriovLinkMade } from '../engine/links.js';
import type { SriovLinkOptions } from '../engine/options.js';
import { VLANS } from './fabric.js';

/** VLANs an SR-IOV link between servers tries (vlan=auto) where one is taken on either server. */
const VLAN_TRIES = 16;

export class SriovAcrossServers implements ServersFabric {
  /** Each link's servers (one, or two), whose fabrics give it back. */
  private readonly links = new Map<string, string[]>();
  /** The VLAN of the last link between servers. */
  private lastVlan: number | null = null;

  constructor(private readonly servers: Pick<Servers, 'list' | 'fabric'>) {}

  /** Make link id, whose two ends are on servers (the same or two); a failure leaves nothing on either. */
  async link(id: string, ends: [SriovEnd, SriovEnd], options: SriovLinkOptions): Promise<SriovLinkMade> {
    const [a, b] = [ends[0].server!, ends[1].server!];
    const made = a === b ? (await this.servers.fabric(a, { link: { id, ends, options } }))! : await this.between(id, ends, options);
    this.links.set(id, [...new Set([a, b])]);
    return made;
  }

  async unlink(id: string): Promise<void> {
    const servers = this.links.get(id) ?? [];
    this.links.delete(id);
    for (const server of servers) await this.servers.fabric(server, { unlink: { id } });
  }

  /**
   * A link between two servers: a VF on each one's cabled PF (the one its
   * data address is on: it reaches the other), on one VLAN, claimed on
   * both; vlan=auto tries the next where one server has it taken already.
   */
  private async between(id: string, ends: [SriovEnd, SriovEnd], options: SriovLinkOptions): Promise<SriovLinkMade> {
    const cabled = new Map(this.servers.list().map((s) => [s.name, s.dataIntf]));
    for (let tries = 1; ; tries++) {
      const vlan = options.vlan === 'auto' ? this.nextVlan() : options.vlan;
      const halves: SriovLinkMade[] = [];
      try {
        for (const end of ends) {
          const pf = options.pf === 'auto' ? cabled.get(end.server!)! : options.pf;
          halves.push((await this.servers.fabric(end.server!, { half: { id, end, options: { ...options, pf }, vlan } }))!);
        }
        return { mode: 'hardware', pf: halves.map((h, i) => `${ends[i].server}:${h.pf}`).join(' '), vlan,
          ends: halves.flatMap((h) => h.ends), notices: halves.flatMap((h) => h.notices) };
      } catch (e) {
        for (const end of ends.slice(0, halves.length)) await this.servers.fabric(end.server!, { unlink: { id } }).catch(() => undefined);
        if (options.vlan !== 'auto' || (e as MnkvmError).kind !== 'clash' || tries === VLAN_TRIES) throw e;
      }
    }
  }

  /** The next VLAN for a link between servers: counted from a random start per run (two runs rarely meet; their claims tell them apart). */
  private nextVlan(): number {
    this.lastVlan = this.lastVlan === null ? VLANS.first + randomInt(3000) : this.lastVlan >= VLANS.last ? VLANS.first : this.lastVlan + 1;
    return this.lastVlan;
  }
}
