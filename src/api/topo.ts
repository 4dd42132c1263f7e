// A topology, the counterpart of Mininet's Topo (mininet/topo.py): nodes
// and links with their parameters, and the ports each link takes, worked
// out here as Mininet works them out; the network is built from it in
// Python. Subclass it as in Mininet, the parameters going to build():
//
//   class LinearTopo extends Topo<[k: number]> {
//     override build(k: number) { ... }
//   }
//   new LinearTopo(3)
import { MnkvmError } from './errors.js';
import type { DockerOptions, HostOptions, LinkOptions, SwitchOptions } from './params.js';

/** A link's key among the links between its two nodes (Mininet numbers them 1, 2, ...). */
export type LinkKey = number | string;

/** A node's parameters as the topology keeps them (isSwitch: a switch). */
export type NodeInfo = (HostOptions | DockerOptions | SwitchOptions) & { isSwitch?: boolean };

/** A link's parameters as the topology keeps them: its nodes and ports with them. */
export type LinkInfo = LinkOptions & { node1: string; node2: string; port1: number; port2: number };

/** The options addLink() takes: the link's, its ports, and its key. */
export type AddLinkOptions = LinkOptions & { key?: LinkKey };

/** A link as iterLinks() gives it: [node1, node2], then its key and parameters where asked. */
type LinkTuple = (string | LinkKey | LinkInfo)[];

/** Mininet's sort order: text in order, numbers in it by value (h2 before h10). */
function natural(text: string): (string | number)[] {
  return text.split(/(\d+)/).map((part, i) => (i % 2 ? Number(part) : part));
}

function compareNatural(a: string, b: string): number {
  const [x, y] = [natural(a), natural(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}

export class Topo<Params extends unknown[] = []> {
  /** Each node's parameters, by name, in the order added. */
  private readonly nodeInfos = new Map<string, NodeInfo>();
  /** Each node's links, by the node at the other end, by key (both ends share one map, as Mininet's MultiGraph). */
  private readonly edges = new Map<string, Map<string, Map<LinkKey, LinkInfo>>>();
  /** Each node's ports: port -> [the node at the other end, its port]. */
  private readonly ports = new Map<string, Map<number, [string, number]>>();

  /** Calls build() with the parameters given (as Mininet's Topo does). */
  constructor(...params: Params) {
    this.build(...params);
  }

  /** Override this to build the topology (the constructor's parameters come here). */
  build(...params: Params): void {
    void params;
  }

  /** Add a node; its name. */
  addNode(name: string, opts: NodeInfo = {}): string {
    this.nodeInfos.set(name, { ...opts });
    return name;
  }

  /** Add a host (kind picks its class: 'kvm', 'namespace', ...; the network's where not given); its name. */
  addHost(name: string, opts: HostOptions = {}): string {
    return this.addNode(name, opts);
  }

  /** Add a Docker host (Containernet's addDocker in a Topo); its name. */
  addDocker(name: string, opts: DockerOptions): string {
    return this.addNode(name, { ...opts, kind: 'docker' });
  }

  /** Add a switch; its name. */
  addSwitch(name: string, opts: SwitchOptions = {}): string {
    return this.addNode(name, { ...opts, isSwitch: true });
  }

  /** Add a link between two nodes (ports, key: the next free ones where not given); its key. */
  addLink(node1: string, node2: string, opts: AddLinkOptions = {}): LinkKey {
    const { key, ...link } = opts;
    const [port1, port2] = this.addPort(node1, node2, opts.port1, opts.port2);
    const info = { ...link, node1, node2, port1, port2 } as LinkInfo;
    const from = this.edgesOf(node1);
    let entry = from.get(node2);
    if (!entry) {
      entry = new Map();
      from.set(node2, entry);
      this.edgesOf(node2).set(node1, entry);
    }
    const chosen = key ?? Math.max(0, ...[...entry.keys()].filter((k) => typeof k === 'number')) + 1;
    entry.set(chosen, info);
    return chosen;
  }

  private edgesOf(node: string): Map<string, Map<LinkKey, LinkInfo>> {
    let edges = this.edges.get(node);
    if (!edges) this.edges.set(node, (edges = new Map()));
    return edges;
  }

  /** The nodes' names (sorted: in Mininet's natural order). */
  nodes(sort = true): string[] {
    const names = [...this.nodeInfos.keys()];
    return sort ? Topo.sorted(names) : names;
  }

  /** Whether node n is a switch. */
  isSwitch(n: string): boolean {
    return this.nodeInfo(n).isSwitch ?? false;
  }

  switches(sort = true): string[] {
    return this.nodes(sort).filter((n) => this.isSwitch(n));
  }

  hosts(sort = true): string[] {
    return this.nodes(sort).filter((n) => !this.isSwitch(n));
  }

  /** The links as [node1, node2], with their keys and parameters where asked, in Mininet's order. */
  iterLinks(withKeys?: false, withInfo?: false): Generator<[string, string]>;
  iterLinks(withKeys: true, withInfo?: false): Generator<[string, string, LinkKey]>;
  iterLinks(withKeys: false, withInfo: true): Generator<[string, string, LinkInfo]>;
  iterLinks(withKeys: true, withInfo: true): Generator<[string, string, LinkKey, LinkInfo]>;
  iterLinks(withKeys = false, withInfo = false): Generator<LinkTuple> {
    return this.linkTuples(withKeys, withInfo);
  }

  private *linkTuples(withKeys: boolean, withInfo: boolean): Generator<LinkTuple> {
    for (const [src, entry] of this.edges) {
      for (const [dst, links] of entry) {
        if (src > dst) continue;   // (each link once: from the end whose name sorts first, as Mininet's MultiGraph)
        for (const [key, info] of links) {
          yield [info.node1, info.node2, ...(withKeys ? [key] : []), ...(withInfo ? [info] : [])];
        }
      }
    }
  }

  /** iterLinks() as a list; sort: in natural order of [node1, node2] (keys too, with withKeys). */
  links(sort?: boolean, withKeys?: false, withInfo?: false): [string, string][];
  links(sort: boolean, withKeys: true, withInfo?: false): [string, string, LinkKey][];
  links(sort: boolean, withKeys: false, withInfo: true): [string, string, LinkInfo][];
  links(sort: boolean, withKeys: true, withInfo: true): [string, string, LinkKey, LinkInfo][];
  links(sort = false, withKeys = false, withInfo = false): LinkTuple[] {
    const links = [...this.linkTuples(withKeys, withInfo)];
    if (!sort) return links;
    const size = withKeys ? 3 : 2;
    const sortKey = (l: LinkTuple) => l.slice(0, size).map(String);
    return links.sort((a, b) => {
      const [x, y] = [sortKey(a), sortKey(b)];
      for (let i = 0; i < size; i++) {
        const c = compareNatural(x[i]!, y[i]!);
        if (c) return c;
      }
      return 0;
    });
  }

  /** The ports a new link between src and dst takes (sport, dport: given, else each node's next: switches from 1, hosts from 0). */
  addPort(src: string, dst: string, sport?: number, dport?: number): [number, number] {
    const portsOf = (node: string) => {
      let ports = this.ports.get(node);
      if (!ports) this.ports.set(node, (ports = new Map()));
      return ports;
    };
    const [from, to] = [portsOf(src), portsOf(dst)];
    const s = sport ?? from.size + (this.isSwitch(src) ? 1 : 0);
    const d = dport ?? to.size + (this.isSwitch(dst) ? 1 : 0);
    from.set(s, [dst, d]);
    to.set(d, [src, s]);
    return [s, d];
  }

  /** The ports [on src, on dst] of the link between them; a list where there are several. */
  port(src: string, dst: string): [number, number] | [number, number][] {
    const ports = [...(this.ports.get(src) ?? new Map<number, [string, number]>())]
      .filter(([, [node]]) => node === dst).map(([sport, [, dport]]): [number, number] => [sport, dport]);
    return ports.length === 1 ? ports[0]! : ports;
  }

  /** A link's parameters (the link of key, else the first). */
  linkInfo(src: string, dst: string, key?: LinkKey): LinkInfo {
    const [entry, k] = this.linkEntry(src, dst, key);
    return entry.get(k)!;
  }

  /** Set a link's parameters. */
  setlinkInfo(src: string, dst: string, info: LinkInfo, key?: LinkKey): void {
    const [entry, k] = this.linkEntry(src, dst, key);
    entry.set(k, info);
  }

  private linkEntry(src: string, dst: string, key?: LinkKey): [Map<LinkKey, LinkInfo>, LinkKey] {
    const entry = this.edges.get(src)?.get(dst);
    if (!entry) throw new MnkvmError(`no link between ${src} and ${dst} in this topology`);
    return [entry, key ?? [...entry.keys()].reduce((a, b) => (b < a ? b : a))];
  }

  /** A node's parameters. */
  nodeInfo(name: string): NodeInfo {
    const info = this.nodeInfos.get(name);
    if (!info) throw new MnkvmError(`no node named ${name} in this topology: add it first (addHost, addSwitch)`);
    return info;
  }

  setNodeInfo(name: string, info: NodeInfo): void {
    this.nodeInfos.set(name, info);
  }

  /** Names in Mininet's natural order (h2 before h10). */
  static sorted(items: string[]): string[] {
    return [...items].sort(compareNatural);
  }

  /** What the network is built from (internal: mnkvm.api's topology()). */
  toJSON(): { nodes: [string, NodeInfo][]; links: [string, string, LinkKey, LinkInfo][] } {
    return { nodes: [...this.nodeInfos], links: this.links(false, true, true) };
  }
}
