// The seam between the engine and what makes SR-IOV links (src/sriov/):
// the engine passes a link's two ends and options to a LinkFabric (ends on
// the run's servers: to a ServersFabric) and hands the NICs it answers to
// the hosts' guests (backend.ts). Both are given to the engine where a
// session starts (src/bridge/session.ts), as the backend is: the engine
// knows no VF, no PF, no VLAN and no bridge of a link.
import type { NicAttachment, Notice } from './backend.js';
import type { SriovLinkOptions } from './options.js';
import type { RunRecord } from './records.js';

/**
 * One end of an SR-IOV link, as Mininet has it:
 * - kvm: a KVM host, whose guest gets the end as a NIC;
 * - host: a node with a namespace of its own (a Mininet host), whose end is
 *   an interface in that namespace;
 * - switch: a node of the root namespace (a switch): its end is a port.
 */
export interface SriovEnd {
  node: string;
  role: 'kvm' | 'host' | 'switch';
  /** The namespace of the end's interface (a KVM host's is its namespace); null: the root namespace. */
  nsPid: number | null;
  intf: string;
  /** The MAC Mininet gives the end, or null: the fabric makes one. */
  mac: string | null;
  /** The server the end's node runs on (--servers), or null (or absent) for this machine. */
  server?: string | null;
}

/** Where a link's ends meet: an SR-IOV NIC's embedded switch (hardware), or the stand-in of emulated mode. */
export type SriovMode = 'hardware' | 'emulated';

export interface SriovLinkMade {
  mode: SriovMode;
  /** The PF whose VFs the link took, or "emulated". */
  pf: string;
  vlan: number;
  /** Per end, in order: the NIC a KVM host's guest gets (null for other ends: their interface is in place), and the end's MAC. */
  ends: { nic: NicAttachment | null; mac: string }[];
  notices: Notice[];
}

export interface LinkFabric {
  /** Make link id's two ends (id: unique in the run); a bad option or a PF that cannot is one line, and nothing is left. */
  link(id: string, ends: [SriovEnd, SriovEnd], options: SriovLinkOptions): Promise<SriovLinkMade>;
  /**
   * Make one end of link id, whose other end is on another server: a VF
   * of options.pf (the PF cabled to that server) on VLAN vlan, where the
   * two ends meet on the cable. Its answer has that one end.
   */
  half(id: string, end: SriovEnd, options: SriovLinkOptions, vlan: number): Promise<SriovLinkMade>;
  /** Give back what link id took (its VFs as they were, its ports gone); the guests have let go of its NICs. */
  unlink(id: string): Promise<void>;
}

/** What makes a machine's SR-IOV links (src/sriov/fabric.ts): this machine's, made as the backend is, or a server's, made by its keeper (src/cluster/keeper.ts). */
export type FabricFactory = (record: RunRecord, notice: (line: string, level?: Notice['level']) => void) => LinkFabric;

/** What makes SR-IOV links whose ends are on the run's servers (src/sriov/across.ts): their servers' fabrics, asked over the run's connections. */
export type ServersFabric = Pick<LinkFabric, 'link' | 'unlink'>;
