// Mininet's objects in a network, as a TypeScript program holds them: nodes
// (Host, Switch, Controller, and Containernet's Docker), their interfaces
// (Intf, TCIntf) and the links between them (Link). Each method is the
// Python object's own (Mininet's name, its arguments, its result), one call
// over the bridge; the network makes these objects, a program never does.
// (One module: nodes, interfaces and links each hand out the others.)
import { Popen } from './popen.js';
import type { IntfParams } from './params.js';
import { REF, type IntfInfo, type LinkInfo, type NodeInfo, type Ref, type Referable, type Remote } from './remote.js';
import { NO_LIMIT } from './python.js';
import { py } from './errors.js';

/** A word of a command: cmd('ping', '-c', 1, ip) runs `ping -c 1 IP`, as Mininet joins them. */
export type Word = string | number;

/** An interface, or its name (Mininet's methods take either). */
export type IntfName = Intf | string;

/**
 * The API objects of one network (internal): one object per node, by name,
 * and the calls that make objects of what Python describes.
 */
export class Objects {
  private readonly nodes = new Map<string, Node>();

  constructor(readonly remote: Remote) {}

  /** Run Mininet's method of target (null: the network); its result, with objects for what it holds. */
  async call<T>(target: Referable | null, method: string, args: unknown[] = [], kwargs: object = {}): Promise<T> {
    return this.decode<T>(await this.remote.call(target, method, args, kwargs));
  }

  /** An attribute of target (null: the network), with objects for what it holds. */
  async attribute<T>(target: Referable | null, name: string): Promise<T> {
    return this.decode<T>(await this.remote.attribute(target, name));
  }

  /** A result's JSON, with objects for the nodes, interfaces and links it describes. */
  decode<T>(json: string): T {
    return JSON.parse(json, (_key, value: unknown) => {
      if (value === null || typeof value !== 'object') return value;
      const described = value as { $node?: NodeInfo; $intf?: IntfInfo; $link?: LinkInfo };
      if (described.$node) return this.node(described.$node);
      if (described.$intf) return this.intf(described.$intf);
      if (described.$link) return this.link(described.$link);
      return value;
    }) as T;
  }

  /** The object for a node: the one made before, unless the name now stands for another node. */
  node(info: NodeInfo): Node {
    const known = this.nodes.get(info.name);
    if (known && known.pythonClass === info.cls) return known;
    const made = new NODE_CLASSES[info.role](this, info);
    this.nodes.set(info.name, made);
    return made;
  }

  /** A node deleted: its name may stand for another one later. */
  forget(name: string): void {
    this.nodes.delete(name);
  }

  intf(info: IntfInfo): Intf {
    return new (info.tc ? TCIntf : Intf)(this, this.node(info.node), info);
  }

  link(info: LinkInfo): Link {
    return new Link(this, this.intf(info.intf1), this.intf(info.intf2), info.cls);
  }
}

/** Mininet's Node: a shell in a network namespace (a KVM host: in its guest). Its methods are Mininet's. */
export class Node {
  readonly name: string;
  /** The Python class: Host, KVMHost, LinuxBridge, OVSSwitch, NAT, ... */
  readonly pythonClass: string;

  /** @internal (the network makes nodes) */
  constructor(protected readonly objects: Objects, info: NodeInfo) {
    this.name = info.name;
    this.pythonClass = info.cls;
  }

  /** @internal */
  get [REF](): Ref {
    return { $node: this.name };
  }

  /** @internal */
  protected call<T>(method: string, args: unknown[] = [], kwargs: object = {}): Promise<T> {
    return this.objects.call<T>(this, method, args, kwargs);
  }

  /** Run a command in the node's shell and wait for it; its output (Mininet's cmd(): the words joined by spaces). */
  cmd(...args: Word[]): Promise<string> {
    return this.objects.remote.cmd(this.name, args);
  }

  /** cmd(), with the output also printed through Mininet's log (at info). */
  cmdPrint(...args: Word[]): Promise<string> {
    return this.call('cmdPrint', args);
  }

  /** Send a command without waiting for it: read its output with monitor() or waitOutput(). */
  sendCmd(...args: Word[]): Promise<void> {
    return this.call('sendCmd', args);
  }

  /** Interrupt the running command (Ctrl-C, or the character given). */
  sendInt(intr?: string): Promise<void> {
    return this.call('sendInt', [], { intr });
  }

  /** The output of the command sendCmd() sent, as far as it has come (within timeoutms; null: wait for some). */
  monitor(timeoutms?: number | null, findPid?: boolean): Promise<string> {
    return this.call('monitor', [], { timeoutms, findPid });
  }

  /** Wait for the command sendCmd() sent to end; its output. */
  waitOutput(verbose?: boolean, findPid?: boolean): Promise<string> {
    return this.call('waitOutput', [], { verbose, findPid });
  }

  /** Whether the node's output can be read (within timeoutms; null: wait). */
  async waitReadable(timeoutms?: number | null): Promise<boolean> {
    // (Mininet answers poll()'s list, or None where output is buffered already)
    const ready = await this.call<unknown[] | null>('waitReadable', [], { timeoutms });
    return ready === null || ready.length > 0;
  }

  /** Read what the shell has written, at most size characters. */
  read(size?: number): Promise<string> {
    return this.call('read', [], { size });
  }

  /** A line the shell has written (without its newline), or null where no whole line has come. */
  readline(): Promise<string | null> {
    return this.call('readline');
  }

  /** Write to the node's shell. */
  write(data: string): Promise<void> {
    return this.call('write', [data]);
  }

  /**
   * Start a process on the node (Mininet's popen(): a list of arguments, or
   * a string split at spaces; with shell, the string runs in a shell); its
   * stdout and stderr come as one stream of lines.
   */
  async popen(cmd: string | string[], opts: { shell?: boolean } = {}): Promise<Popen> {
    const api = this.objects.remote.api;
    const process = await py(api, api.popen$(this.objects.remote.net, this.name, JSON.stringify({ args: cmd, shell: opts.shell ?? false }), NO_LIMIT));
    return new Popen(api, process, await (process as unknown as { pid: PromiseLike<number> }).pid);
  }

  /** Run a process on the node and wait for it: [stdout, stderr, exit code]. */
  pexec(cmd: string | string[], opts: { shell?: boolean } = {}): Promise<[out: string, err: string, exitcode: number]> {
    return this.call('pexec', [cmd], opts);
  }

  /** The IP address of an interface (the default one where not given), as Mininet set it; null: none. */
  IP(intf?: IntfName): Promise<string | null> {
    return this.call('IP', [], { intf });
  }

  /** The MAC address of an interface (the default one where not given), as Mininet set it. */
  MAC(intf?: IntfName): Promise<string | null> {
    return this.call('MAC', [], { intf });
  }

  /** Set an interface's IP address (ip: '10.0.0.1', with prefixLen 8 where not given, or '10.0.0.1/24'); ifconfig's output. */
  setIP(ip: string, prefixLen?: number, intf?: IntfName): Promise<string> {
    return this.call('setIP', [ip], { prefixLen, intf });
  }

  /** Set an interface's MAC address; ifconfig's output. */
  setMAC(mac: string, intf?: IntfName): Promise<string> {
    return this.call('setMAC', [mac], { intf });
  }

  /** Add an ARP entry. */
  setARP(ip: string, mac: string): Promise<string> {
    return this.call('setARP', [ip, mac]);
  }

  /** Add a route to a host through an interface. */
  setHostRoute(ip: string, intf: IntfName): Promise<string> {
    return this.call('setHostRoute', [ip, intf]);
  }

  /** Set the default route: through an interface, or a route spec ('via 10.0.0.254'). */
  setDefaultRoute(intf?: IntfName): Promise<void> {
    return this.call('setDefaultRoute', [], { intf });
  }

  /** An interface by name (the default one where not given); null where there is none. */
  intf(intf?: IntfName): Promise<Intf | null> {
    return this.call('intf', [], { intf });
  }

  /** The interface of the lowest port; null where there is none. */
  defaultIntf(): Promise<Intf | null> {
    return this.call('defaultIntf');
  }

  /** The interfaces, by port number. */
  intfList(): Promise<Intf[]> {
    return this.call('intfList');
  }

  /** The interfaces' names, by port number. */
  intfNames(): Promise<string[]> {
    return this.call('intfNames');
  }

  /** The interfaces by port number (Mininet's intfs attribute). */
  async intfs(): Promise<Map<number, Intf>> {
    const byPort = await this.objects.attribute<Record<string, Intf>>(this, 'intfs');
    return new Map(Object.entries(byPort).map(([port, intf]) => [Number(port), intf]));
  }

  /** Whether an interface (the default one where not given) is up. */
  intfIsUp(intf?: IntfName): Promise<boolean> {
    return this.call('intfIsUp', [], { intf });
  }

  /** The pairs [this node's interface, node's interface] of every link between the two. */
  connectionsTo(node: Node): Promise<[Intf, Intf][]> {
    return this.call('connectionsTo', [node]);
  }

  /** Delete the node's interfaces (checkName: only those whose name holds the node's). */
  deleteIntfs(checkName?: boolean): Promise<void> {
    return this.call('deleteIntfs', [], { checkName });
  }

  /** Configure the node (Mininet calls it when the network is built): the default interface's MAC and IP, the default route, lo. */
  config(params: NodeConfig = {}): Promise<Record<string, string | null>> {
    return this.call('config', [], params);
  }

  /** config() with the node's own parameters, updated with params. */
  configDefault(params: NodeConfig = {}): Promise<void> {
    return this.call('configDefault', [], params);
  }

  /** Whether a command sent with sendCmd() is still running (Mininet's waiting attribute). */
  waiting(): Promise<boolean> {
    return this.objects.attribute(this, 'waiting');
  }

  /** The process id of the node's shell (Mininet's pid attribute; a KVM host's: its namespace's). */
  pid(): Promise<number> {
    return this.objects.attribute(this, 'pid');
  }

  /** Kill the node's shell (and what runs in it; a KVM host's guest). */
  terminate(): Promise<void> {
    return this.call('terminate');
  }

  /** Stop the node, deleting its interfaces first where asked (a switch: by default). */
  stop(deleteIntfs?: boolean): Promise<void> {
    return this.call('stop', [], { deleteIntfs });
  }
}

/** What config() sets. */
export interface NodeConfig { mac?: string; ip?: string; defaultRoute?: string; lo?: 'up' | 'down' }

/** Mininet's Host: a node (a KVM host's is its guest). */
export class Host extends Node {}

/** Containernet's Docker host, a KVM host booted from the image its dimage stands for (docs/containernet.md). */
export class Docker extends Host {
  /** Run the image's ENTRYPOINT and CMD in the background, as Containernet's Docker.start(). */
  start(): Promise<void> {
    return this.call('start');
  }

  /** Containernet's: cores pins the VM's threads again; quota, period and shares are recorded, with one line (a VM's vCPUs are set at its start). */
  updateCpuLimit(limits: { cpu_quota?: number; cpu_period?: number; cpu_shares?: number; cores?: string }): Promise<void> {
    return this.call('updateCpuLimit', [], limits);
  }

  /** Containernet's resources attribute: the limits last asked for (updateCpuLimit, updateMemoryLimit), by option name. */
  resources(): Promise<Record<string, number | string | null>> {
    return this.objects.attribute(this, 'resources');
  }

  /** Containernet's: recorded, with one line (a VM's memory is set at its start). */
  updateMemoryLimit(limits: { mem_limit?: string | number; memswap_limit?: string | number }): Promise<void> {
    return this.call('updateMemoryLimit', [], limits);
  }
}

/** Mininet's Switch (mnkvm's default: a Linux bridge). */
export class Switch extends Node {
  /** Start the switch: a switch added to a running network starts only when told (as in Mininet). */
  start(controllers: Controller[] = []): Promise<void> {
    return this.call('start', [controllers]);
  }

  /** Whether it is connected to a controller (a bridge without one: yes). */
  connected(): Promise<boolean> {
    return this.call('connected');
  }

  /** The datapath ID a dpid (or, not given, the switch's name: s1 -> 1) makes. */
  defaultDpid(dpid?: string): Promise<string> {
    return this.call('defaultDpid', [], { dpid });
  }
}

/** Mininet's Controller (an OpenFlow controller). */
export class Controller extends Node {
  start(): Promise<void> {
    return this.call('start');
  }

  /** Make sure no other controller listens on its port (Mininet raises where one does). */
  checkListening(): Promise<void> {
    return this.call('checkListening');
  }

  /** Whether the controller's program is installed (its path, or null). */
  isAvailable(): Promise<string | null> {
    return this.call('isAvailable');
  }
}

const NODE_CLASSES: Record<NodeInfo['role'], new (objects: Objects, info: NodeInfo) => Node> = {
  host: Host, docker: Docker, switch: Switch, controller: Controller,
};

/** Mininet's Intf: a node's interface. Its methods are Mininet's. */
export class Intf {
  readonly node: Node;
  /** Its name (rename() changes it). */
  name: string;
  /** The Python class: Intf, TCIntf, VfIntf (an SR-IOV link's end), ... */
  readonly pythonClass: string;

  /** @internal (the network makes interfaces) */
  constructor(protected readonly objects: Objects, node: Node, info: IntfInfo) {
    this.node = node;
    this.name = info.name;
    this.pythonClass = info.cls;
  }

  /** @internal */
  get [REF](): Ref {
    return { $intf: [this.node.name, this.name] };
  }

  /** @internal */
  protected call<T>(method: string, args: unknown[] = [], kwargs: object = {}): Promise<T> {
    return this.objects.call<T>(this, method, args, kwargs);
  }

  /** Its IP address, as Mininet set it (null: none). */
  IP(): Promise<string | null> {
    return this.call('IP');
  }

  /** Its MAC address, as Mininet set it. */
  MAC(): Promise<string | null> {
    return this.call('MAC');
  }

  /** Whether it is up (setUp: bring it up first). */
  isUp(setUp?: boolean): Promise<boolean> {
    return this.call('isUp', [], { setUp });
  }

  /** Set its IP address: '10.0.0.1/8', or the address and prefixLen; ifconfig's output. */
  setIP(ip: string, prefixLen?: number): Promise<string> {
    return this.call('setIP', [ip], { prefixLen });
  }

  /** Set its MAC address; ifconfig's output. */
  setMAC(mac: string): Promise<string> {
    return this.call('setMAC', [mac]);
  }

  /** Run ifconfig on it with these arguments (none: its state); the output. */
  ifconfig(...args: Word[]): Promise<string> {
    return this.call('ifconfig', args);
  }

  /** Run a command on its node. */
  cmd(...args: Word[]): Promise<string> {
    return this.call('cmd', args);
  }

  /** Rename it; the command's output. */
  async rename(newname: string): Promise<string> {
    const output = await this.call<string>('rename', [newname]);
    this.name = newname;
    return output;
  }

  /** 'OK' where it exists on its node, else 'MISSING'. */
  status(): Promise<string> {
    return this.call('status');
  }

  /** Delete it. */
  delete(): Promise<void> {
    return this.call('delete');
  }

  /** Read its IP address from the node. */
  updateIP(): Promise<string | null> {
    return this.call('updateIP');
  }

  /** Read its MAC address from the node. */
  updateMAC(): Promise<string | null> {
    return this.call('updateMAC');
  }

  /** Read its IP and MAC addresses from the node. */
  updateAddr(): Promise<[ip: string | null, mac: string | null]> {
    return this.call('updateAddr');
  }

  /** Configure it (MAC, IP, up, ifconfig arguments; a TCIntf: its tc parameters); what each part answered. */
  config(params: IntfParams = {}): Promise<Record<string, unknown>> {
    return this.call('config', [], params);
  }

  /** The link it is an end of (Mininet's link attribute); null: none. */
  link(): Promise<Link | null> {
    return this.objects.attribute(this, 'link');
  }
}

/** Mininet's TCIntf: an interface shaped by tc (a TCLink's end). */
export class TCIntf extends Intf {
  /** Run a tc command on it: '%s qdisc show dev %s' (tc, and the interface). */
  tc(cmd: string, tc?: string): Promise<string> {
    return this.call('tc', [cmd], { tc });
  }
}

/** Mininet's Link: two interfaces, one on each node. */
export class Link {
  /** The Python class: Link, TCLink, SRIOVLink, ... */
  readonly pythonClass: string;

  /** @internal (the network makes links) */
  constructor(protected readonly objects: Objects, readonly intf1: Intf, readonly intf2: Intf, cls: string) {
    this.pythonClass = cls;
  }

  /** @internal */
  get [REF](): Ref {
    return { $link: [this.intf1.node.name, this.intf1.name] };
  }

  /** Delete the link (its interfaces); the network still lists it: Mininet.delLink() deletes it from the network. */
  delete(): Promise<void> {
    return this.objects.call(this, 'delete');
  }

  /** Stop the link (Mininet's Link: delete it). */
  stop(): Promise<void> {
    return this.objects.call(this, 'stop');
  }

  /** '(OK OK)': each end's status; an SR-IOV link says where it runs. */
  status(): Promise<string> {
    return this.objects.call(this, 'status');
  }

  /** The name the link's class gives node's interface number n (NODE-ethN). */
  intfName(node: Node, n: number): Promise<string> {
    return this.objects.call(this, 'intfName', [node, n]);
  }

  /** 'h1-eth0<->s1-eth1' */
  toString(): string {
    return `${this.intf1.name}<->${this.intf2.name}`;
  }
}
