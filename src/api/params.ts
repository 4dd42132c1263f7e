// The parameters of hosts, switches, controllers, links and Docker hosts as a
// TypeScript program gives them: Mininet's names (max_queue_size, not
// maxQueueSize: they go to Mininet as they are), mnkvm's KVM host and SR-IOV
// link options typed from their one definition (src/engine/options.ts),
// which checks their values when the node or link is made.
import type { KvmHostOptions, SriovLinkOptions as SriovOptionValues } from '../engine/options.js';

/** Parameters every Mininet node takes (Node.__init__ and Node.config). */
export interface NodeParams {
  /** IP address of the default interface, with its prefix: '10.0.0.1/8'. */
  ip?: string;
  /** MAC address of the default interface. */
  mac?: string;
  /** The default route: an interface name, or 'via 10.0.0.254'. */
  defaultRoute?: string;
  /** Run in a network namespace of its own (hosts: true; switches: the network's inNamespace). */
  inNamespace?: boolean;
  /** The loopback interface's state: 'up' (the default) or 'down'. */
  lo?: 'up' | 'down';
  /** Folders the node gets a private copy of: a tmpfs ('/var/run'), or [mount point, folder of this machine] with %(name)s for the node's name. */
  privateDirs?: (string | [string, string])[];
  /** The server of the run (Mininet.start's servers) the node runs on; without it, the placer (placement) chooses. */
  server?: string;
}

/**
 * A host's parameters: `kind` picks its class, as mn's --host does ('kvm',
 * 'kvm,mem=512', 'namespace': Mininet's Host, which mn calls proc, 'cfs' and
 * 'rt': CPULimitedHost); the network's host class where not given. A KVM host
 * takes the KVM host options (docs/kvm-hosts.md), a CPULimitedHost its own.
 */
export interface HostOptions extends NodeParams, Partial<Omit<KvmHostOptions, 'share' | 'cores'>> {
  kind?: 'kvm' | 'namespace' | 'cfs' | 'rt' | (string & Record<never, never>);
  /** A folder of this machine the guest mounts at the same path, or 'none' (KVM hosts). */
  share?: string;
  /** Cores the host runs on: a KVM host's VM threads, a CPULimitedHost's cpuset. */
  cores?: number | number[];
  /** A CPULimitedHost's share of the CPU (0 to 1). */
  cpu?: number;
  /** A CPULimitedHost's scheduler. */
  sched?: 'cfs' | 'rt';
  /** A CPULimitedHost's scheduling period (microseconds). */
  period_us?: number;
}

/** A switch's parameters: `kind` picks its class, as mn's --switch does ('lxbr', 'ovs', 'ovs,failMode=standalone', 'user'). */
export interface SwitchOptions extends NodeParams {
  kind?: 'lxbr' | 'ovs' | 'ovsbr' | 'user' | 'ivs' | (string & Record<never, never>);
  /** Datapath ID, hex (derived from the name where not given: s1 -> 1). */
  dpid?: string;
  /** More options for the switch's command (OpenFlow switches). */
  opts?: string;
  /** The port it listens on for dpctl. */
  listenPort?: number;
  /** Spanning tree (Linux bridge, Open vSwitch in standalone mode). */
  stp?: boolean;
  /** Spanning tree priority (Linux bridge). */
  prio?: number;
  /** Open vSwitch: what it does without a controller. */
  failMode?: 'secure' | 'standalone';
  /** Open vSwitch: the kernel's datapath or the userspace one. */
  datapath?: 'kernel' | 'user';
  /** Open vSwitch: OpenFlow versions (OpenFlow13). */
  protocols?: string;
  /** Open vSwitch: in-band control. */
  inband?: boolean;
  /** Open vSwitch: the longest reconnect wait (ms). */
  reconnectms?: number;
}

/** A controller's parameters: `kind` picks its class, as mn's --controller does ('ref', 'ovsc', 'remote', 'ryu', 'none'). */
export interface ControllerOptions extends Omit<NodeParams, 'ip'> {
  kind?: 'ref' | 'ovsc' | 'nox' | 'ryu' | 'remote' | 'default' | 'none' | (string & Record<never, never>);
  /** Where it listens, or (remote) where it is: '127.0.0.1', or 'ip:port'. */
  ip?: string;
  port?: number;
  protocol?: 'tcp' | 'ssl';
  /** The controller's command and its arguments (ptcp:%d: the port). */
  command?: string;
  cargs?: string;
  cdir?: string;
  verbose?: boolean;
}

/**
 * TCLink's (TCIntf's) parameters: Mininet's names, as TCIntf.config takes
 * them; each end of the link gets them.
 */
export interface TCParams {
  /** Bandwidth, Mbit/s (0 to 1000). */
  bw?: number;
  /** Delay: '5ms'. */
  delay?: string;
  /** Jitter: '1ms'. */
  jitter?: string;
  /** Loss, percent (0 to 100). */
  loss?: number;
  /** netem's queue limit, in packets. */
  max_queue_size?: number;
  /** Generic receive offload (false). */
  gro?: boolean;
  /** Transmit checksum offload (true). */
  txo?: boolean;
  /** Receive checksum offload (true). */
  rxo?: boolean;
  /** Bandwidth by HFSC instead of HTB (HTB is the default). */
  use_hfsc?: boolean;
  /** Bandwidth by TBF instead of HTB. */
  use_tbf?: boolean;
  /** TBF's latency parameter (ms). */
  latency_ms?: number;
  enable_ecn?: boolean;
  enable_red?: boolean;
  /** Experimental: a switch-side bandwidth. */
  speedup?: number;
}

/** Parameters of an interface (Intf.config), for one end of a link (params1, params2) or Intf.config. */
export interface IntfParams extends TCParams {
  mac?: string;
  ip?: string;
  /** More ifconfig arguments. */
  ifconfig?: string;
  up?: boolean;
}

/** What every link takes (Mininet's Link). */
export interface BaseLinkOptions {
  /** Port numbers of the two ends (the next free one where not given). */
  port1?: number;
  port2?: number;
  /** Interface names (NODE-ethPORT where not given). */
  intfName1?: string;
  intfName2?: string;
  /** MAC addresses of the two ends (random where not given). */
  addr1?: string;
  addr2?: string;
  /** Parameters of one end only. */
  params1?: IntfParams;
  params2?: IntfParams;
}

/** A veth pair: Mininet's Link (or the network's link class). */
export interface DefaultLinkOptions extends BaseLinkOptions { kind?: 'default' | 'ovs' }

/** A TCLink: tc shapes both ends ('tcu': TCULink, without checksum offload). */
export interface TCLinkOptions extends BaseLinkOptions, TCParams { kind: 'tc' | 'tcu' }

/** An SR-IOV link: its ends are VFs (docs/sriov.md); the SR-IOV link options, checked by their one definition. */
export interface SRIOVLinkOptions extends BaseLinkOptions, Partial<SriovOptionValues> { kind: 'sriov' }

/** A link's parameters: `kind` picks its class, as mn's --link does; the network's link class where not given. */
export type LinkOptions = DefaultLinkOptions | TCLinkOptions | SRIOVLinkOptions;

/**
 * Containernet's Docker options, as its addDocker takes them: each becomes
 * its KVM host's equivalent, or one warning line (docs/containernet.md says
 * which; mininet-ext/mnkvm/containernet/options.py's OPTIONS, which a unit
 * test keeps in step with this list).
 */
export interface DockerParams {
  /** The Docker image: an image `mnkvm image import` made with this tag, or one Mininet.start's images maps. */
  dimage: string;
  /** A command run in the background once the host is up. */
  dcmd?: string;
  environment?: Record<string, string | number>;
  /** HOST:GUEST[:ro] */
  volumes?: string[];
  tmpfs?: string[];
  sysctls?: Record<string, string | number>;
  /** Bytes, or '512m', '1g'. */
  mem_limit?: string | number;
  /** '0,2', '0-3' */
  cpuset_cpus?: string;
  cpu_quota?: number;
  cpu_period?: number;
  cpus?: number;
  rm?: boolean;
  cpu_shares?: number;
  memswap_limit?: string | number;
  /** Container ports ('80', '80/udp') published at a free port of this machine. */
  ports?: (number | string)[];
  /** Container port -> this machine's port, [address, port], or a list of those. */
  port_bindings?: Record<string, number | [string, number] | (number | [string, number])[]>;
  publish_all_ports?: boolean;
  shm_size?: string | number;
  dns?: string[];
  network_mode?: string;
  ipc_mode?: string;
  devices?: string[];
  cap_add?: string[];
  storage_opt?: Record<string, string>;
  device_requests?: unknown[];
  build_params?: Record<string, unknown>;
}

const DOCKER_PARAMS: Record<keyof DockerParams, true> = {
  dimage: true, dcmd: true, environment: true, volumes: true, tmpfs: true, sysctls: true, mem_limit: true, cpuset_cpus: true,
  cpu_quota: true, cpu_period: true, cpus: true, rm: true, cpu_shares: true, memswap_limit: true, ports: true, port_bindings: true,
  publish_all_ports: true, shm_size: true, dns: true, network_mode: true, ipc_mode: true, devices: true, cap_add: true,
  storage_opt: true, device_requests: true, build_params: true,
};
/** The names of Containernet's Docker options (DockerParams). */
export const DOCKER_PARAM_NAMES = Object.keys(DOCKER_PARAMS) as (keyof DockerParams)[];

/** A Docker host's parameters: Containernet's Docker options, and a host's (its KVM host options among them). */
export type DockerOptions = DockerParams & Omit<HostOptions, 'kind' | 'image'>;
