// A running Mininet network, driven from TypeScript.
import { Session } from '../bridge/session.js';
import { MnkvmError, py } from './errors.js';
import { NO_LIMIT, type ApiModule, type LinesRef, type NetRef } from './python.js';
import type { HostOptions, LinkOptions, Topo } from './topo.js';

export interface StartOptions {
  /** A Topo, or mn's --topo syntax ('single,2', 'linear,3'). */
  topo: Topo | string;
  /** Default host class: 'kvm' (with options: 'kvm,mem=256'), 'namespace' (Mininet's Host; mn calls it proc)... Default 'kvm'. */
  host?: string;
  /** Default 'lxbr' (Linux bridge). */
  switch?: string;
  /** Default 'none'. */
  controller?: string;
  /** 'default' or 'tc' (with parameters: 'tc,bw=10'). */
  link?: string;
}

/** A process running on a host: its output lines as they come, then its exit code. */
export class Popen {
  private code: number | undefined;
  constructor(private readonly iterator: LinesRef) {}

  async *lines(): AsyncGenerator<string> {
    for await (const line of this.iterator) {
      const exit = /^exit:(-?\d+)$/.exec(line);
      if (exit) this.code = Number(exit[1]);
      else yield line;
    }
  }

  /** Drain the output and return the exit code. */
  async wait(): Promise<number> {
    for await (const line of this.lines()) void line;
    return this.code ?? -1;
  }
}

export class Host {
  constructor(readonly name: string, private readonly api: ApiModule, private readonly net: NetRef) {}

  /** Run a command in the host's shell (Mininet's cmd()); returns its output. */
  cmd(...args: string[]): Promise<string> {
    return py(this.api, this.api.cmd$(this.net, this.name, JSON.stringify(args), NO_LIMIT));
  }

  /** Start a process (Mininet's popen()) and stream its output (stdout and stderr merged). */
  async popen(argv: string[]): Promise<Popen> {
    return new Popen(await py(this.api, this.api.popenLines$(this.net, this.name, JSON.stringify(argv), NO_LIMIT)));
  }

  IP(): Promise<string> {
    return py(this.api, this.api.ip(this.net, this.name));
  }
}

export class Mininet implements AsyncDisposable {
  private readonly hosts = new Map<string, Host>();
  private stopped = false;

  private constructor(private readonly session: Session, private readonly api: ApiModule, private readonly net: NetRef) {}

  /** Whether this process has started a network: pythonia's Python, once restarted, no longer reaches the engine. */
  private static started = false;

  /** Build and start a network. Stop it with stop(), or `await using net = await Mininet.start(...)`. */
  static async start(opts: StartOptions): Promise<Mininet> {
    // (a second network's Python would wait forever for its first call to the engine)
    if (Mininet.started) throw new MnkvmError('one mnkvm network per process: start the next one in a new process');
    Mininet.started = true;
    const session = await Session.open();
    try {
      const api = await session.module<ApiModule>('mnkvm.api');
      const spec = {
        topo: typeof opts.topo === 'string' ? opts.topo : opts.topo.toJSON(),
        host: opts.host ?? 'kvm', switch: opts.switch ?? 'lxbr', controller: opts.controller ?? 'none', link: opts.link,
      };
      return new Mininet(session, api, await py(api, api.start$(JSON.stringify(spec), NO_LIMIT)));
    } catch (e) {
      await session.close();
      throw e;
    }
  }

  /** A host by name. */
  async get(name: string): Promise<Host> {
    let host = this.hosts.get(name);
    if (!host) {
      if (!(await py(this.api, this.api.hasNode(this.net, name)))) throw new MnkvmError(`no node named ${name} in this network`);
      host = new Host(name, this.api, this.net);
      this.hosts.set(name, host);
    }
    return host;
  }

  /** Ping between hosts (all by default); returns the percentage dropped. */
  ping(hosts: string[] = [], timeout?: number): Promise<number> {
    return py(this.api, this.api.ping$(this.net, JSON.stringify(hosts), timeout ?? null, NO_LIMIT));
  }

  /** iperf between two hosts; returns [server, client] rates as Mininet reports them. */
  async iperf(a: string, b: string, opts: { l4Type?: 'TCP' | 'UDP'; seconds?: number } = {}): Promise<[string, string]> {
    const out = await py(this.api, this.api.iperf$(this.net, a, b, opts.l4Type ?? 'TCP', opts.seconds ?? 5, NO_LIMIT));
    return JSON.parse(out) as [string, string];
  }

  async addHost(name: string, opts: HostOptions = {}): Promise<Host> {
    await py(this.api, this.api.addHost$(this.net, name, JSON.stringify(opts), NO_LIMIT));
    return this.get(name);
  }

  /** Add a link at run time (a KVM host gets a hot-plugged NIC); returns its interface names. */
  async addLink(a: string, b: string, opts: LinkOptions = {}): Promise<[string, string]> {
    const intfs = await py(this.api, this.api.addLink$(this.net, a, b, JSON.stringify(opts), NO_LIMIT));
    return intfs.split(' ') as [string, string];
  }

  async delLink(a: string, b: string): Promise<void> {
    await py(this.api, this.api.delLink$(this.net, a, b, NO_LIMIT));
  }

  /** Seconds per host.cmd('true') timed inside Python: the baseline of `mnkvm bench bridge`. */
  timeCmd(name: string, calls: number): Promise<number> {
    return py(this.api, this.api.timeCmd$(this.net, name, calls, NO_LIMIT));
  }

  /** Stop the network and remove everything it created. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await py(this.api, this.api.stop$(this.net, NO_LIMIT));
    } finally {
      await this.session.close();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
