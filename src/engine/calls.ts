// The engine as Python sees it: every call Python makes, with its arguments
// and result, listed once. mininet-ext/mnkvm/engine.py lists the same calls
// as functions (a unit test checks that the two lists agree). A call
// crosses the bridge as Engine.call(name, JSON of its arguments) and comes
// back as JSON: { value } or { error: { kind, message, details } }.
import type { NicAttachment, Notice } from './backend.js';
import type { NameKind } from './claims.js';
import type { ErrorRecord } from './errors.js';
import type { ContainerImage } from './image.js';
import type { SriovEnd, SriovLinkMade } from './links.js';
import type { Machine, MachineResource } from './machine.js';
import type { KvmHostOptions, SriovLinkOptions } from './options.js';

/** A server of a run that spreads over several (src/cluster/): Mininet's ssh reaches it as alias in the run's ssh_config; data: its address between servers, on dataIntf (the PF cabled to the others). */
export interface ServerInfo { name: string; alias: string; user: string; data: string; dataIntf: string }

/** A thing a run makes on a server, for that server's record of the run (kept by the run's keeper there: src/cluster/keeper.ts). */
export type ServerRecordRequest =
  | { claim: { of: NameKind; name: string } }
  | { add: { kind: 'bridge' | 'ovsbr'; name: string } | MachineResource }
  | { release: { of: NameKind; name: string } };

/** SR-IOV link ends a server's own fabric makes there (the keeper's VF pool, recorded in its record): a whole link, one end of a link between servers, or giving one back. */
export type ServerFabricRequest =
  | { link: { id: string; ends: [SriovEnd, SriovEnd]; options: SriovLinkOptions } }
  | { half: { id: string; end: SriovEnd; options: SriovLinkOptions; vlan: number } }
  | { unlink: { id: string } };

/** The servers a run spreads over (src/cluster/cluster.ts), as the engine uses them. */
export interface Servers {
  list(): ServerInfo[];
  /** The ssh_config (a file) Mininet's node shells on servers use. */
  sshConfig(): string;
  /** The placer (--placement) that places nodes without server=. */
  readonly placement: string;
  record(server: string, request: ServerRecordRequest): Promise<void>;
  /** What server's fabric answers (SriovLinkMade for link and half). */
  fabric(server: string, request: ServerFabricRequest): Promise<SriovLinkMade | null>;
  /** Where a KVM host on server runs its guest (the libvirt backend's commands there). */
  machine(server: string): Machine;
}

/** The servers a run spreads over, for Python: none for a run on this machine alone. */
export interface ServersAnswer { servers: ServerInfo[]; sshConfig: string; placement: string }

/** A started guest, as KVMHost needs it. */
export interface VmInfo {
  console: string;
  accel: 'kvm' | 'tcg' | 'none';
  pid: number | null;
  restored: boolean;
  /** How popen() and terminals log in: ssh OPTIONS -T|-t TARGET (options: ssh.ts's guestSshArgs). */
  ssh: { key: string; target: string; options: string[] };
  /**
   * tune=latency: the machine's cores its shell, popen and terminals run on
   * (housekeeping), and the guest's vCPUs a measured process runs on
   * (isolated in the guest); null: untuned.
   */
  tuned: { housekeeping: number[]; isolated: number[] } | null;
  notices: Notice[];
}

export interface EngineCalls {
  /** The names of the KVM host options (KVMHost takes these out of its keyword arguments). */
  kvmHostOptionNames(a: Record<string, never>): string[];
  /** A KVM host's options from those given, checked by their one definition (options.ts). */
  kvmHostOptions(a: { given: Record<string, unknown> }): KvmHostOptions;
  /** The least memory (MiB) mem= allows (options.ts): a Docker host's smaller mem_limit becomes it. */
  kvmHostLeastMem(a: Record<string, never>): number;
  /** The names of the SR-IOV link options (SRIOVLink takes these out of its keyword arguments). */
  sriovLinkOptionNames(a: Record<string, never>): string[];
  /** An SR-IOV link's options from those given, checked by their one definition (options.ts). */
  sriovLinkOptions(a: { given: Record<string, unknown> }): SriovLinkOptions;
  /** Make an SR-IOV link's two ends: VFs, or emulated ports (links.ts); a KVM end's NIC is then attachNic's. */
  makeSriovLink(a: { id: string; ends: [SriovEnd, SriovEnd]; options: SriovLinkOptions }): Promise<SriovLinkMade>;
  /** Give an SR-IOV link's VFs back (in the background, once its KVM hosts let go). */
  removeSriovLink(a: { id: string }): void;
  /** Start host name's guest in the background (its NICs are wired in nsPid's namespace, on server where given); returns lines for the user. */
  startVm(a: { name: string; nsPid: number; options: KvmHostOptions; server?: string | null }): Notice[];
  /** Wait until the guest runs with its identity and the NICs attached so far. */
  vmReady(a: { name: string }): Promise<VmInfo>;
  /** Give the guest a NIC (in the background, after what the host has under way). */
  attachNic(a: { name: string; nic: NicAttachment }): void;
  /** Take intf's NIC from the guest (in the background). */
  detachNic(a: { name: string; intf: string }): void;
  /** Run the guest on these cores of the machine only. */
  pinVm(a: { name: string; cores: number[] }): Promise<void>;
  /** Stop the guest, without waiting for it. */
  stopVm(a: { name: string }): void;
  /** What to say of a guest whose shell did not come: its bootTimeout (s) ran out, or (null) its console closed. */
  shellFailure(a: { name: string; bootTimeout: number | null }): Promise<string>;
  /** Record a Mininet node's shell (its process group holds everything it started). */
  recordShell(a: { name: string; pid: number }): void;
  /** Record a process started on this machine for host name (ssh for popen, a terminal). */
  recordHostProcess(a: { name: string; pid: number }): void;
  /** The servers the run spreads over (--servers), if any. */
  servers(a: Record<string, never>): ServersAnswer | null;
  /** Claim global names before anything is made with them (on server, where given: its record). */
  claimNames(a: { kind: NameKind; names: string[]; server?: string | null }): Promise<void>;
  /** Claim and record a root-namespace interface about to be made (on server, where given). */
  recordIntf(a: { name: string; server?: string | null }): Promise<void>;
  /** The interface was not made after all. */
  releaseIntf(a: { name: string; server?: string | null }): Promise<void>;
  recordBridge(a: { name: string; server?: string | null }): Promise<void>;
  recordOvsBridge(a: { name: string; server?: string | null }): Promise<void>;
  /** Claim and record the cgroups CPULimitedHost name makes. */
  recordCgroup(a: { name: string }): void;
  /** Record an iptables rule about to be added (its arguments). */
  recordRule(a: { args: string[] }): void;
  /** Record a kernel setting's value before the run changes it. */
  recordSysctl(a: { key: string; value: string }): void;
  /** The line to say once where bridged traffic passes iptables (br_netfilter: netfilter.ts), or null. */
  bridgeNetfilterNotice(a: Record<string, never>): string | null;
  /** Wait (at most 20 s) for operations still under way. */
  settle(a: Record<string, never>): Promise<void>;
  /** The image a Docker host's dimage stands for (source: the run's --image mapping, if any), imported on first use. */
  containerImage(a: { dimage: string; source: string | null }): Promise<ContainerImage>;
}

export type EngineCall = keyof EngineCalls;

/** Every call's name (a Record, so that the compiler sees none is missing). */
const NAMES: Record<EngineCall, true> = {
  kvmHostOptionNames: true, kvmHostOptions: true, kvmHostLeastMem: true, sriovLinkOptionNames: true, sriovLinkOptions: true,
  makeSriovLink: true, removeSriovLink: true, startVm: true, vmReady: true, attachNic: true, detachNic: true,
  pinVm: true, stopVm: true, shellFailure: true, recordShell: true, recordHostProcess: true, servers: true, claimNames: true,
  recordIntf: true, releaseIntf: true, recordBridge: true, recordOvsBridge: true, recordCgroup: true,
  recordRule: true, recordSysctl: true, bridgeNetfilterNotice: true, settle: true, containerImage: true,
};
export const ENGINE_CALLS = Object.keys(NAMES) as EngineCall[];

/** What a call answers, as JSON. */
export type Answer = { value: unknown } | { error: ErrorRecord };

export function isEngineCall(name: string): name is EngineCall {
  return Object.hasOwn(NAMES, name);
}
