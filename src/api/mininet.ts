// A running Mininet network, driven from TypeScript.
import type { PyObject } from '../bridge/bridge.js';
import { Session } from '../bridge/session.js';
import { MnkvmError, py } from './errors.js';
import type { HostOptions, LinkOptions, Topo } from './topo.js';

const NO_LIMIT = { $timeout: Infinity };

export interface StartOptions {
  /** A Topo, or mn's --topo syntax ('single,2', 'linear,3'). */
  topo: Topo | string;
  /** Default host class: 'kvm' (with options: 'kvm,mem=256'), 'proc' (namespace)... Default 'kvm'. */
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
  constructor(private readonly iterator: PyObject) {}

  async *lines(): AsyncGenerator<string> {
    for await (const line of this.iterator as AsyncIterable<string>) {
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
  constructor(readonly name: string, private readonly pyHost: PyObject, private readonly api: PyObject) {}

  /** Run a command in the host's shell (Mininet's cmd()); returns its output. */
  cmd(...args: string[]): Promise<string> {
    return py(this.pyHost.cmd$(...args, NO_LIMIT) as Promise<string>);
  }

  /** Start a process (Mininet's popen()) and stream its output (stdout and stderr merged). */
  async popen(argv: string[]): Promise<Popen> {
    return new Popen(await py(this.api.popenLines(this.pyHost, JSON.stringify(argv)) as Promise<PyObject>));
  }

  IP(): Promise<string> {
    return py(this.pyHost.IP() as Promise<string>);
  }
}

export class Mininet implements AsyncDisposable {
  private readonly hosts = new Map<string, Host>();
  private stopped = false;

  private constructor(private readonly session: Session, private readonly api: PyObject, private readonly net: PyObject) {}

  /** Build and start a network. Stop it with stop(), or `await using net = await Mininet.start(...)`. */
  static async start(opts: StartOptions): Promise<Mininet> {
    const session = await Session.open();
    try {
      const api = await session.module('mnkvm.api');
      const spec = {
        topo: typeof opts.topo === 'string' ? opts.topo : opts.topo.toJSON(),
        host: opts.host ?? 'kvm', switch: opts.switch ?? 'lxbr', controller: opts.controller ?? 'none', link: opts.link,
      };
      const net = await py(api.start$(JSON.stringify(spec), NO_LIMIT) as Promise<PyObject>);
      return new Mininet(session, api, net);
    } catch (e) {
      await session.close();
      throw e;
    }
  }

  /** A host by name (its Python object is looked up once). */
  async get(name: string): Promise<Host> {
    let host = this.hosts.get(name);
    if (!host) {
      const names = await py(this.net.keys() as Promise<PyObject>);
      if (!(await names.__contains__(name))) throw new MnkvmError(`no node named ${name} in this network`);
      host = new Host(name, await py(this.net.get(name) as Promise<PyObject>), this.api);
      this.hosts.set(name, host);
    }
    return host;
  }

  /** Ping between hosts (all by default); returns the percentage dropped. */
  ping(hosts: string[] = [], timeout?: number): Promise<number> {
    return py(this.api.ping$(this.net, JSON.stringify(hosts), timeout ?? null, NO_LIMIT) as Promise<number>);
  }

  /** iperf between two hosts; returns [server, client] rates as Mininet reports them. */
  async iperf(a: string, b: string, opts: { l4Type?: 'TCP' | 'UDP'; seconds?: number } = {}): Promise<[string, string]> {
    const out = await py(this.api.iperf$(this.net, a, b, opts.l4Type ?? 'TCP', opts.seconds ?? 5, NO_LIMIT) as Promise<string>);
    return JSON.parse(out) as [string, string];
  }

  async addHost(name: string, opts: HostOptions = {}): Promise<Host> {
    await py(this.api.addHost$(this.net, name, JSON.stringify(opts), NO_LIMIT) as Promise<PyObject>);
    return this.get(name);
  }

  /** Add a link at run time (a KVM host gets a hot-plugged NIC); returns its interface names. */
  async addLink(a: string, b: string, opts: LinkOptions = {}): Promise<[string, string]> {
    const intfs = await py(this.api.addLink$(this.net, a, b, JSON.stringify(opts), NO_LIMIT) as Promise<string>);
    return intfs.split(' ') as [string, string];
  }

  async delLink(a: string, b: string): Promise<void> {
    await py(this.net.delLinkBetween$(await this.node(a), await this.node(b), NO_LIMIT) as Promise<void>);
  }

  /** Seconds per host.cmd('true') timed inside Python: the baseline of `mnkvm bench bridge`. */
  timeCmd(name: string, calls: number): Promise<number> {
    return this.node(name).then((h) => py(this.api.timeCmd$(h, calls, NO_LIMIT) as Promise<number>));
  }

  /** Stop the network and remove everything it created. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await py(this.net.stop$(NO_LIMIT) as Promise<void>);
    } finally {
      await this.session.close();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private node(name: string): Promise<PyObject> {
    return py(this.net.get(name) as Promise<PyObject>);
  }
}
