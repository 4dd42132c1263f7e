// A typed topology builder, the counterpart of Mininet's Topo.
import type { KvmHostOptions } from '../engine/options.js';

/**
 * Options of a host: `kind` picks its class ('kvm', 'namespace': Mininet's
 * Host, which mn calls proc, or any mn --host spec); a KVM host takes the
 * KVM host options (engine/options.ts).
 */
export interface HostOptions extends Partial<Omit<KvmHostOptions, 'share' | 'cores'>> {
  kind?: 'kvm' | 'namespace' | string;
  share?: string;        // a folder of the machine the guest mounts, or 'none'
  cores?: number | number[];
  ip?: string;
  mac?: string;
  defaultRoute?: string;
}

export interface SwitchOptions { dpid?: string; stp?: boolean }

/** TCLink parameters (with `link: 'tc'`). */
export interface LinkOptions { bw?: number; delay?: string; jitter?: string; loss?: number; maxQueueSize?: number; port1?: number; port2?: number }

export class Topo {
  readonly hosts: [string, HostOptions][] = [];
  readonly switches: [string, SwitchOptions][] = [];
  readonly links: [string, string, LinkOptions][] = [];

  addHost(name: string, opts: HostOptions = {}): string {
    this.hosts.push([name, opts]);
    return name;
  }

  addSwitch(name: string, opts: SwitchOptions = {}): string {
    this.switches.push([name, opts]);
    return name;
  }

  addLink(a: string, b: string, opts: LinkOptions = {}): void {
    this.links.push([a, b, opts]);
  }

  toJSON(): { hosts: Topo['hosts']; switches: Topo['switches']; links: Topo['links'] } {
    return { hosts: this.hosts, switches: this.switches, links: this.links };
  }
}
