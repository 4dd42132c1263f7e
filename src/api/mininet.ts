// A Mininet network, driven from TypeScript: Mininet's Mininet class, its
// methods async and typed (docs/typescript.md's table says which of Python's
// each is, and why the few left out are).
import { randomBytes } from 'node:crypto';
import { requireRoot, Session } from '../bridge/session.js';
import { clusterOptions, type Placer } from '../cluster/servers.js';
import { testbedServer } from '../testbed/testbed.js';
import { MnkvmError, py } from './errors.js';
import { Controller, Docker, Host, Link, Node, Objects, Switch } from './nodes.js';
import type { ControllerOptions, DockerOptions, HostOptions, LinkOptions, NodeParams, SwitchOptions } from './params.js';
import { Listeners, MininetLog } from './listeners.js';
import type { LogLevel, ProgressListener } from './progress.js';
import { NO_LIMIT, type ApiModule } from './python.js';
import { Remote, toJson } from './remote.js';
import type { Topo } from './topo.js';

/** What Mininet.create() and Mininet.start() build: Mininet's constructor's parameters, and mnkvm's. */
export interface StartOptions {
  /** A Topo, or mn's --topo syntax ('single,2', 'linear,3'); none: an empty network (add nodes to it). */
  topo?: Topo<never[]> | string;
  /** The default host class, as mn's --host: 'kvm' (with options: 'kvm,mem=256'), 'namespace' (Mininet's Host, mn's proc), 'cfs'... Default 'kvm'. */
  host?: string;
  /** The default switch class, as mn's --switch. Default 'lxbr' (a Linux bridge). */
  switch?: string;
  /** The default controller, as mn's --controller. Default 'none'. */
  controller?: string;
  /** The default link class, as mn's --link: 'default', 'tc' (with parameters: 'tc,bw=10'), 'sriov' ('sriov,mode=emulated'). */
  link?: string;
  /** Where hosts' addresses come from (Mininet's ipBase). Default '10.0.0.0/8'. */
  ipBase?: string;
  /** Switches and controllers in namespaces of their own. */
  inNamespace?: boolean;
  /** MAC addresses from hosts' numbers, as IP addresses are. */
  autoSetMacs?: boolean;
  /** ARP entries for every pair of hosts. */
  autoStaticArp?: boolean;
  /** Pin hosts to cores in turn. */
  autoPinCpus?: boolean;
  /** The first switch's dpctl port (the next switches count up). */
  listenPort?: number;
  /** Wait for switches to connect to a controller when started: true, or seconds. */
  waitConnected?: boolean | number;
  /** An xterm per node (needs DISPLAY). */
  xterms?: boolean;
  /** Spread the network over these servers, as mnkvm's --servers: 'tb1,tb2' (a virtual testbed), or user@host[:port] (docs/servers.md). */
  servers?: string | string[];
  /** How nodes without server= are placed on the servers, as --placement. Default 'switchbin'. */
  placement?: Placer;
  /** Docker hosts' images: dimage -> docker-archive:FILE.tar, oci:DIR or an mnkvm image's name, as `mnkvm run --image`. */
  images?: Record<string, string>;
  /** What Mininet's log prints on stderr, as Mininet's setLogLevel (mn's -v). Default 'output' (Mininet's; mn says 'info'). */
  logLevel?: LogLevel;
  /** Takes the network's progress while it is built (then: net.on('progress', ...)). */
  onProgress?: ProgressListener;
}

/** A ping's results between two hosts, as pingFull() gives them (rtt: ms). */
export type PingResult = [src: Node, dst: Node, outputs: [sent: number, received: number, rttmin: number, rttavg: number, rttmax: number, rttdev: number]];

/** A node, or its name (Mininet's methods take either). */
export type NodeName = Node | string;

/** A reference Python resolves to the node (a Node crosses as its own). */
const ref = (node: NodeName): Node | { $node: string } => (typeof node === 'string' ? { $node: node } : node);

/** Mininet's Mininet: a network of hosts, switches and controllers, with its links. Its methods are Mininet's. */
export class Mininet implements AsyncDisposable {
  private readonly objects: Objects;
  private running = false;
  private stopped = false;

  /** Whether this process has made a network: pythonia's Python, once restarted, no longer reaches the engine. */
  private static made = false;

  private constructor(private readonly session: Session, private readonly remote: Remote, private readonly progress: Listeners) {
    this.objects = new Objects(remote);
  }

  /**
   * Build a network, not started yet (Mininet(topo)): add to it, then
   * start(). One network per process.
   */
  static async create(opts: StartOptions = {}): Promise<Mininet> {
    requireRoot();
    // (a second network's Python would wait forever for its first call to the engine)
    if (Mininet.made) throw new MnkvmError('one mnkvm network per process: start the next one in a new process');
    const { topo, servers, placement, onProgress, ...rest } = opts;
    const cluster = clusterOptions(Array.isArray(servers) ? servers.join(',') : servers, placement, testbedServer);
    Mininet.made = true;
    const progress = new Listeners();
    if (onProgress) progress.listeners.add(onProgress);
    const session = await Session.open(cluster, (line) => {
      process.stderr.write(`${line}\n`);
      progress.emit({ kind: 'notice', level: 'info', line });
    });
    session.engine.onProgress = progress.emit;
    try {
      const api = await session.module<ApiModule>('mnkvm.api');
      const spec = {
        ...rest, topo: typeof topo === 'string' || topo === undefined ? topo : topo.toJSON(),
        host: opts.host ?? 'kvm', switch: opts.switch ?? 'lxbr', controller: opts.controller ?? 'none',
      };
      const net = await py(api, api.build$(JSON.stringify(spec), new MininetLog(progress), NO_LIMIT));
      return new Mininet(session, new Remote(api, net), progress);
    } catch (e) {
      await session.close();
      throw e;
    }
  }

  /** Build and start a network: stop it with stop(), or `await using net = await Mininet.start(...)`. One network per process. */
  static async start(opts: StartOptions = {}): Promise<Mininet> {
    const net = await Mininet.create(opts);
    try {
      await net.start();
    } catch (e) {
      await net.stop().catch(() => undefined);   // (the start's error is the one to say)
      throw e;
    }
    return net;
  }

  /** A random MAC address, unicast and locally administered (Mininet's randMac). */
  static randMac(): string {
    const bytes = randomBytes(6);
    bytes[0] = (bytes[0]! & 0xfe) | 0x02;
    return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  private call<T>(method: string, args: unknown[] = [], kwargs: object = {}): Promise<T> {
    return this.objects.call<T>(null, method, args, kwargs);
  }

  private get api(): ApiModule {
    return this.remote.api;
  }

  /** Take the network's progress events (hosts booting, Mininet's lines...). */
  on(event: 'progress', listener: ProgressListener): this {
    void event;
    this.progress.listeners.add(listener);
    return this;
  }

  off(event: 'progress', listener: ProgressListener): this {
    void event;
    this.progress.listeners.delete(listener);
    return this;
  }

  /** Start the network: its controllers and switches (it was built by create()). */
  async start(): Promise<void> {
    await this.call('start');
    this.running = true;
  }

  /** Stop the network and remove everything it made. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    try {
      await py(this.api, this.api.stop$(this.remote.net, NO_LIMIT));
    } finally {
      await this.session.close();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** A node by name (several names: a list), as Mininet's get(). */
  get(name: string): Promise<Node>;
  get(...names: string[]): Promise<Node[]>;
  async get(...names: string[]): Promise<Node | Node[]> {
    return this.objects.decode<Node | Node[]>(await py(this.api, this.api.nodes(this.remote.net, JSON.stringify(names))));
  }

  /** get(), under Mininet's other name for it. */
  getNodeByName(name: string): Promise<Node>;
  getNodeByName(...names: string[]): Promise<Node[]>;
  getNodeByName(...names: string[]): Promise<Node | Node[]> {
    return this.get(...names);
  }

  /** The hosts (Mininet's hosts attribute). */
  hosts(): Promise<Host[]> {
    return this.objects.attribute(null, 'hosts');
  }

  /** The switches (Mininet's switches attribute). */
  switches(): Promise<Switch[]> {
    return this.objects.attribute(null, 'switches');
  }

  /** The controllers (Mininet's controllers attribute). */
  controllers(): Promise<Controller[]> {
    return this.objects.attribute(null, 'controllers');
  }

  /** The links (Mininet's links attribute). */
  links(): Promise<Link[]> {
    return this.objects.attribute(null, 'links');
  }

  /** The nodes' names: hosts, switches, controllers. */
  keys(): Promise<string[]> {
    return this.call('keys');
  }

  /** The nodes: hosts, switches, controllers. */
  values(): Promise<Node[]> {
    return this.call('values');
  }

  /** [name, node] for every node. */
  async items(): Promise<[string, Node][]> {
    return (await this.values()).map((node) => [node.name, node]);
  }

  private async add<T>(method: string, name: string, opts: object): Promise<T> {
    return this.objects.decode<T>(await py(this.api, this.api.add$(this.remote.net, method, name, JSON.stringify(opts), NO_LIMIT)));
  }

  /** Add a host (kind picks its class; the network's host class where not given). On a running network, link it, and a KVM host gets its NICs hot-plugged. */
  addHost(name: string, opts: HostOptions = {}): Promise<Host> {
    return this.add('addHost', name, opts);
  }

  /** Add a Docker host, as Containernet's addDocker: a KVM host booted from the image dimage stands for (Mininet.start's images). */
  addDocker(name: string, opts: DockerOptions): Promise<Docker> {
    return this.add('addDocker', name, opts);
  }

  /** Add a switch; on a running network, start() it (with its controllers) once linked. */
  addSwitch(name: string, opts: SwitchOptions = {}): Promise<Switch> {
    return this.add('addSwitch', name, opts);
  }

  /** Add a controller; null where the class is `none` (the network's default: no controller). */
  addController(name = 'c0', opts: ControllerOptions = {}): Promise<Controller | null> {
    return this.add('addController', name, opts);
  }

  /** Add a NAT to the world outside (connect: to this switch, or the first one; false: not linked), and make it hosts' default route. */
  addNAT(name = 'nat0', opts: NodeParams & { connect?: boolean | string; subnet?: string; localIntf?: string; flush?: boolean } = {}): Promise<Host> {
    const { connect, ...rest } = opts;
    return this.add('addNAT', name, { ...rest, ...(connect === undefined ? {} : { connect: typeof connect === 'string' ? { $node: connect } : connect }) });
  }

  /** Add a link between two nodes (kind picks its class: 'tc', 'sriov'...). On a running network a KVM host gets a hot-plugged NIC, a switch's new port joins it. */
  async addLink(node1: NodeName, node2: NodeName, opts: LinkOptions = {}): Promise<Link> {
    const [a, b] = [node1, node2].map((n) => (typeof n === 'string' ? n : n.name));
    return this.objects.decode<Link>(await py(this.api, this.api.addLink$(this.remote.net, a!, b!, JSON.stringify(opts), NO_LIMIT)));
  }

  /** Delete a link from the network (its interfaces go; a KVM host's NIC is unplugged). */
  delLink(link: Link): Promise<void> {
    return this.call('delLink', [link]);
  }

  /** The links between two nodes. */
  linksBetween(node1: NodeName, node2: NodeName): Promise<Link[]> {
    return this.call('linksBetween', [ref(node1), ref(node2)]);
  }

  /** Delete the link between two nodes (index: which, where several; allLinks: every one); the links deleted. */
  async delLinkBetween(node1: NodeName, node2: NodeName, opts: { index?: number; allLinks?: boolean } = {}): Promise<Link[]> {
    const [a, b] = [node1, node2].map((n) => (typeof n === 'string' ? n : n.name));
    return this.objects.decode<Link[]>(await py(this.api,
      this.api.delLinkBetween$(this.remote.net, a!, b!, opts.index ?? 0, opts.allLinks ?? false, NO_LIMIT)));
  }

  private async del(method: string, node: NodeName): Promise<void> {
    await this.call(method, [ref(node)]);
    this.objects.forget(typeof node === 'string' ? node : node.name);
  }

  /** Delete a node: stop it, delete its interfaces. */
  delNode(node: NodeName): Promise<void> {
    return this.del('delNode', node);
  }

  delHost(host: Host | string): Promise<void> {
    return this.del('delHost', host);
  }

  delSwitch(node: Switch | string): Promise<void> {
    return this.del('delSwitch', node);
  }

  /** Delete a controller (its switches are not told, as in Mininet). */
  delController(controller: Controller | string): Promise<void> {
    return this.del('delController', controller);
  }

  /** Bring the links between two nodes up or down (both ends). */
  configLinkStatus(src: NodeName, dst: NodeName, status: 'up' | 'down'): Promise<void> {
    const name = (n: NodeName) => (typeof n === 'string' ? n : n.name);
    return this.call('configLinkStatus', [name(src), name(dst), status]);
  }

  /** Ping between every two of hosts (all by default), once each; the percentage lost. timeout: seconds each waits. */
  ping(hosts?: NodeName[], timeout?: number): Promise<number> {
    return this.call('ping', [], { hosts: hosts?.map(ref), timeout });
  }

  /** Ping between all hosts; the percentage lost. */
  pingAll(timeout?: number): Promise<number> {
    return this.call('pingAll', [], { timeout });
  }

  /** Ping between the first two hosts; the percentage lost. */
  pingPair(): Promise<number> {
    return this.call('pingPair');
  }

  /** ping(), with every pair's results. */
  pingFull(hosts?: NodeName[], timeout?: number): Promise<PingResult[]> {
    return this.call('pingFull', [], { hosts: hosts?.map(ref), timeout });
  }

  pingAllFull(): Promise<PingResult[]> {
    return this.call('pingAllFull');
  }

  pingPairFull(): Promise<PingResult[]> {
    return this.call('pingPairFull');
  }

  /**
   * iperf between two hosts (the first and the last where not given; the
   * first is the client): [server's rate, client's rate] as Mininet reports
   * them, with UDP [udpBw, server's, client's].
   */
  iperf(hosts?: [NodeName, NodeName], opts: { l4Type?: 'TCP' | 'UDP'; udpBw?: string; fmt?: string; seconds?: number; port?: number } = {}): Promise<string[]> {
    return this.call('iperf', [], { hosts: hosts?.map(ref), ...opts });
  }

  /** Mininet's CPU limit test: every host (CPULimitedHost, on cgroup v1's cpuacct) spins; each second's CPU share of each. */
  runCpuLimitTest(cpu: number, duration?: number): Promise<number[]> {
    return this.call('runCpuLimitTest', [cpu], { duration });
  }

  /** Wait for switches to connect to their controllers (timeout: seconds; mnkvm's 60 where none); whether all did. */
  waitConnected(timeout?: number, delay?: number): Promise<boolean> {
    return this.call('waitConnected', [], { timeout, delay });
  }

  /** ARP entries for every pair of hosts. */
  staticArp(): Promise<void> {
    return this.call('staticArp');
  }

  /** An xterm per node (needs DISPLAY; a KVM host's logs into its guest). */
  startTerms(): Promise<void> {
    return this.call('startTerms');
  }

  stopXterms(): Promise<void> {
    return this.call('stopXterms');
  }

  /**
   * The hosts' output (all hosts by default), a line at a time, as
   * [host, line] (Mininet's monitor(): for commands sent with sendCmd());
   * with timeoutms, [null, null] where that long passed quietly. It never
   * ends by itself: break out of the loop.
   */
  async *monitor(hosts?: NodeName[], timeoutms = -1): AsyncGenerator<[Node, string] | [null, null]> {
    const lines = await py(this.api, this.api.monitor$(this.remote.net, toJson(hosts?.map(ref) ?? null), timeoutms, NO_LIMIT));
    for (;;) {
      const item = await py(this.api, this.api.following$(lines, NO_LIMIT));
      if (item === null) return;
      yield this.objects.decode<[Node, string] | [null, null]>(item);
    }
  }

  /**
   * Mininet's CLI on the running network, on this process's terminal (stdin
   * and stdout), as CLI(net); returns when it is left (exit, Ctrl-D).
   * script: a file of CLI commands to run instead.
   */
  async cli(opts: { script?: string } = {}): Promise<void> {
    // A terminal's Ctrl-C reaches Python too (the same process group), where the CLI takes it: not this process's end
    const stay = (): void => undefined;
    process.on('SIGINT', stay);
    try {
      await py(this.api, this.api.cli$(this.remote.net, opts.script ?? null, NO_LIMIT));
    } finally {
      process.off('SIGINT', stay);
    }
  }

  /** Start the network (where not started), run its CLI, stop it (Mininet's interact()). */
  async interact(): Promise<void> {
    if (!this.running) await this.start();
    await this.cli();
    await this.stop();
  }

  /** Start the network (where not started), run test, stop it; test's result (Mininet's run()). */
  async run<T>(test: (net: Mininet) => Promise<T>): Promise<T> {
    if (!this.running) await this.start();
    try {
      return await test(this);
    } finally {
      await this.stop();
    }
  }

  /**
   * @internal Seconds per host.cmd('true') timed inside Python: the baseline
   * of `mnkvm bench bridge` (src/bench/bridge.ts), its only user.
   */
  timeCmd(name: string, calls: number): Promise<number> {
    return py(this.api, this.api.timeCmd$(this.remote.net, name, calls, NO_LIMIT));
  }
}
