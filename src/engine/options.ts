// The user-facing option sets, each defined once: name, default, rule and
// help. The KVM host options (`--host kvm,mem=256`) and the SR-IOV link
// options (`--link sriov,pf=enp1s0`): the CLI's help and check, the Python
// classes' check in scripts (through the engine) and the TypeScript API's
// types all come from here, so the same bad value gives the same one-line
// message on every path.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { MnkvmError } from './errors.js';

/** One option's definition. */
export interface Option<T> {
  /** The value when the option is not given. */
  default: T;
  /** The syntax shown in --help, e.g. MiB or auto|kvm|tcg. */
  syntax: string;
  help: string;
  /** The value from what a user gave (a string from the command line, or a script's value), or what it must be. */
  parse(value: unknown): T | { must: string };
  /** An environment variable that sets the default instead, where it is set (e.g. for a slow machine). */
  env?: string;
}

function whole(fallback: number, least: number, syntax: string, help: string, most = Infinity): Option<number> {
  return {
    default: fallback, syntax, help,
    parse: (v) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
      if (Number.isInteger(n) && n >= least && n <= most) return n;
      return { must: most === Infinity ? `a whole number >= ${least}` : `a whole number from ${least} to ${most}` };
    },
  };
}

function oneOf<T extends string>(choices: readonly T[], fallback: T, help: string): Option<T> {
  return {
    default: fallback, syntax: choices.join('|'), help,
    parse: (v) => (choices as readonly unknown[]).includes(v) ? v as T : { must: `one of ${choices.join(', ')}` },
  };
}

/** A machine's own libvirtd (the libvirt backend's uri=, and what a server's domains are recorded under there). */
export const SYSTEM_LIBVIRT = 'qemu:///system';

/** The least memory (MiB) of a KVM host's guest: the kernel and the initramfs live in it. */
export const LEAST_MEM = 160;

export const KVM_HOST_OPTIONS = {
  mem: whole(256, LEAST_MEM, 'MiB', `guest memory (at least ${LEAST_MEM}: the kernel and the initramfs live in it)`),
  cpus: whole(1, 1, 'N', 'virtual CPUs'),
  accel: oneOf(['auto', 'kvm', 'tcg'] as const, 'auto',
    'KVM when it can run a guest here, else TCG (one line says so: timings are emulated); MNKVM_ACCEL sets what auto means'),
  image: {
    default: 'default', syntax: 'NAME', help: 'a guest image name under /var/cache/mnkvm/images, or a folder',
    parse: (v: unknown) => typeof v === 'string' && v !== '' ? v : { must: 'an image name or folder' },
  } satisfies Option<string>,
  bootTimeout: {
    ...whole(120, 1, 'S', "seconds to wait for a guest's shell before failing (with its last console lines); MNKVM_BOOT_TIMEOUT sets the default, for a machine where guests boot slowly"),
    env: 'MNKVM_BOOT_TIMEOUT',
  },
  boot: oneOf(['clone', 'cold'] as const, 'clone',
    "clone: start as a copy-on-write clone of a snapshot template; cold: boot the guest's kernel"),
  share: {
    default: '/tmp' as string | null, syntax: 'DIR|none',
    help: 'a folder of the machine the guest mounts at the same path (sshfs over a virtio port), or none',
    parse: (v: unknown) => {
      if (v === null || v === 'none' || v === '') return null;
      const ok = typeof v === 'string' && isAbsolute(v) && !/\s/.test(v) && existsSync(v) && statSync(v).isDirectory();
      return ok ? normalize(v) : { must: 'an existing folder given by its absolute path, without spaces, or none' };
    },
  } satisfies Option<string | null>,
  cores: {
    default: null as number[] | null, syntax: 'N',
    help: "pin the VM's threads to these cores of the machine (a number, or a list in a script), as CPULimitedHost does; mn --pin sets it; with tune=latency: the cores dedicated to vCPUs 1 and up",
    parse: (v: unknown) => {
      if (v === null) return null;
      const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[ +]/) : [v];
      const cores = list.map((c) => (typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : c));
      return cores.length && cores.every((c) => Number.isInteger(c) && (c as number) >= 0) ? cores as number[] : { must: 'a core number or a list of them' };
    },
  } satisfies Option<number[] | null>,
  tune: oneOf(['none', 'latency'] as const, 'none',
    'latency: vCPUs 1 and up each on a core of their own (cores=, else an isolated core) and isolated in the guest, vCPU 0 and QEMU on the other cores, memory on 2 MiB hugepages (needs cpus>=2; boots cold; docs/latency-tuning.md)'),
  backend: oneOf(['qemu', 'libvirt'] as const, 'qemu',
    'qemu: mnkvm runs QEMU itself; libvirt: a transient domain of libvirtd at uri (virsh list shows it; it boots cold)'),
  uri: {
    default: SYSTEM_LIBVIRT, syntax: 'URI', help: "the libvirt connection of backend=libvirt (this machine's libvirtd)",
    parse: (v: unknown) => typeof v === 'string' && /^qemu(\+\w+)?:\/\/[^\s,]*\/(system|session)$/.test(v) ? v : { must: 'a libvirt URI of QEMU, e.g. qemu:///system' },
  } satisfies Option<string>,
};

/** An option set's definitions, by name. */
export type Options = Record<string, Option<unknown>>;
/** The value option K of set O takes (what its parse gives, less its complaint). */
export type ValueOf<O extends Options, K extends keyof O> = Exclude<ReturnType<O[K]['parse']>, { must: string }>;
/** Every option of a set, with its value. */
export type OptionValues<O extends Options> = { [K in keyof O]: ValueOf<O, K> };

/** An option set: its one check, its help, the syntax --help shows. */
class OptionSet<O extends Options> {
  readonly names: (keyof O & string)[];
  /** what: "KVM host" or "SR-IOV link"; spec: "--host kvm"; example: a whole spec that works. */
  constructor(readonly options: O, private readonly what: string, private readonly spec: string, private readonly example: string) {
    this.names = Object.keys(options) as (keyof O & string)[];
  }

  /** One option's value, or the one-line error every path gives. */
  value<K extends keyof O & string>(name: K, value: unknown): ValueOf<O, K> {
    const parsed = this.options[name].parse(value);
    if (parsed !== null && typeof parsed === 'object' && 'must' in parsed) {
      throw new MnkvmError(`${this.what} option ${name}=${Array.isArray(value) ? value.join('+') : String(value)}: must be ${parsed.must}`);
    }
    return parsed as ValueOf<O, K>;
  }

  /** All options from those given (the others take their defaults); a name that is not an option is one line. */
  values(given: Record<string, unknown>): OptionValues<O> {
    for (const name of Object.keys(given)) {
      if (!(this.names as string[]).includes(name)) {
        throw new MnkvmError(`unknown ${this.what} option '${name}': use ${this.names.join(', ')} (e.g. ${this.example})`);
      }
    }
    const values: Record<string, unknown> = {};
    for (const name of this.names) values[name] = name in given ? this.value(name, given[name]) : this.fallback(name);
    return values as OptionValues<O>;
  }

  /** An option's value where it is not given: its environment variable's (checked as the option is), else its default. */
  private fallback(name: keyof O & string): unknown {
    const { env, parse } = this.options[name];
    const set = env ? process.env[env] : undefined;
    if (!set) return this.options[name].default;
    const parsed = parse(set);
    if (parsed !== null && typeof parsed === 'object' && 'must' in parsed) {
      throw new MnkvmError(`${env}=${set}: must be ${parsed.must} (the default of the ${this.what} option ${name})`);
    }
    return parsed;
  }

  /** The --help line: --host kvm[,mem=MiB][,cpus=N]... */
  syntax(): string {
    return `${this.spec}${this.names.map((n) => `[,${n}=${this.options[n].syntax}]`).join('')}`;
  }
}

const KVM_HOST = new OptionSet(KVM_HOST_OPTIONS, 'KVM host', '--host kvm', '--host kvm,mem=256,cpus=2');
export type KvmHostOptionName = keyof typeof KVM_HOST_OPTIONS;
export type KvmHostOptions = OptionValues<typeof KVM_HOST_OPTIONS>;
export const KVM_HOST_OPTION_NAMES = KVM_HOST.names;
export const kvmHostOption = <K extends KvmHostOptionName>(name: K, value: unknown) => KVM_HOST.value(name, value);
export const kvmHostOptions = (given: Record<string, unknown>): KvmHostOptions => KVM_HOST.values(given);
export const kvmHostSyntax = (): string => KVM_HOST.syntax();

/**
 * The keyword parameters Mininet's Host takes itself (Node.__init__'s and
 * Node.config's, and privateDirs, which Node.__init__ documents and reads):
 * a `--host kvm` spec passes them on to Host. A unit test compares them with
 * Mininet's.
 */
export const MININET_HOST_PARAMS: readonly string[] = ['inNamespace', 'mac', 'ip', 'defaultRoute', 'lo', 'privateDirs'];

/** A class spec as mn's --host, --switch and --link take it: kvm,mem=256. */
export interface ClassSpec { name: string; args: string[]; params: Record<string, string> }

/**
 * A class spec split as Mininet's splitArgs splits it (mininet/util.py),
 * for the checks made before Python starts: an argument with = is a
 * parameter (split at its first =; the last of a name counts), one without
 * is positional. Values stay the strings the command line gave: the
 * options' rules take those (Mininet's makeNumeric makes numbers of them).
 */
export function splitSpec(spec: string): ClassSpec {
  const [name, ...rest] = spec.split(',');
  const args = rest.filter((a) => !a.includes('='));
  const params = Object.fromEntries(rest.filter((a) => a.includes('=')).map((a) => {
    const at = a.indexOf('=');
    return [a.slice(0, at), a.slice(at + 1)];
  }));
  return { name, args, params };
}

/** The KVM host options of a `--host` spec, checked, or null where it names another class; Host's own parameters pass. */
export function kvmHostSpecOptions(spec: string): KvmHostOptions | null {
  const { name, params } = splitSpec(spec);
  if (name !== 'kvm') return null;
  return kvmHostOptions(Object.fromEntries(Object.entries(params).filter(([key]) => !MININET_HOST_PARAMS.includes(key))));
}

/** A VLAN ID (1 to 4094), or auto: a VLAN of its own per link (the switch's, for a link to a switch). */
const vlan: Option<number | 'auto'> = {
  default: 'auto', syntax: 'ID|auto', help: 'the VLAN of the link: auto gives each link one of its own, and every SR-IOV link of a switch its VLAN',
  parse: (v) => (v === 'auto' ? 'auto' : whole(0, 1, '', '', 4094).parse(v)),
};

/** on, off, or null: leave the VF as it is. */
function onOff(help: string): Option<boolean | null> {
  return {
    default: null, syntax: 'on|off', help,
    parse: (v) => (v === 'on' || v === true ? true : v === 'off' || v === false ? false : v === null ? null : { must: 'on or off' }),
  };
}

export const SRIOV_LINK_OPTIONS = {
  pf: {
    default: 'auto', syntax: 'NAME|auto',
    help: "the physical function whose VFs the link takes: its interface name or PCI address, with VF ranges as the SR-IOV device plugin writes them (enp1s0#0-3+5); auto: the first PF with free VFs (the verify play's facts, or /etc/mnkvm/vf-selectors.json, say which)",
    parse: (v: unknown) => typeof v === 'string' && /^[\w.:#+-]+$/.test(v) ? v : { must: 'an interface name or PCI address, or auto' },
  } satisfies Option<string>,
  vlan,
  rate: {
    default: null as number | null, syntax: 'MBIT', help: "the VF's transmit rate limit (ip link set PF vf N max_tx_rate), in Mbit/s",
    parse: (v: unknown) => (v === null ? null : whole(0, 1, '', '').parse(v)),
  } satisfies Option<number | null>,
  spoofchk: onOff('whether the NIC drops frames a VF sends from another MAC (left as it is where not given)'),
  trust: onOff('whether a VF may change its MAC and ask for promiscuous mode (left as it is where not given)'),
  mode: oneOf(['auto', 'hardware', 'emulated'] as const, 'auto',
    'hardware: VFs of an SR-IOV NIC, passed through; emulated: a labelled stand-in from bridges and virtio NICs where this machine has no SR-IOV NIC; auto: hardware where a PF is found, else emulated (one line says so)'),
};

const SRIOV_LINK = new OptionSet(SRIOV_LINK_OPTIONS, 'SR-IOV link', '--link sriov', '--link sriov,pf=enp1s0,vlan=auto');
export type SriovLinkOptions = OptionValues<typeof SRIOV_LINK_OPTIONS>;
export const SRIOV_LINK_OPTION_NAMES = SRIOV_LINK.names;
export const sriovLinkOptions = (given: Record<string, unknown>): SriovLinkOptions => SRIOV_LINK.values(given);
export const sriovLinkSyntax = (): string => SRIOV_LINK.syntax();
