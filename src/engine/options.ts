// The KVM host options, defined once: name, default, rule and help. The
// CLI's help and check (`--host kvm,mem=256`), KVMHost's check in scripts
// (through the engine) and the TypeScript API's types all come from here,
// so the same bad value gives the same one-line message on every path.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { MnkvmError } from './errors.js';

interface Option<T> {
  /** The value when the option is not given. */
  default: T;
  /** The syntax shown in --help, e.g. MiB or auto|kvm|tcg. */
  syntax: string;
  help: string;
  /** The value from what a user gave (a string from the command line, or a script's value), or what it must be. */
  parse(value: unknown): T | { must: string };
}

function whole(fallback: number, least: number, syntax: string, help: string): Option<number> {
  return {
    default: fallback, syntax, help,
    parse: (v) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
      return Number.isInteger(n) && n >= least ? n : { must: `a whole number >= ${least}` };
    },
  };
}

function oneOf<T extends string>(choices: readonly T[], fallback: T, help: string): Option<T> {
  return {
    default: fallback, syntax: choices.join('|'), help,
    parse: (v) => (choices as readonly unknown[]).includes(v) ? v as T : { must: `one of ${choices.join(', ')}` },
  };
}

export const KVM_HOST_OPTIONS = {
  mem: whole(256, 160, 'MiB', 'guest memory (at least 160: the kernel and the initramfs live in it)'),
  cpus: whole(1, 1, 'N', 'virtual CPUs'),
  accel: oneOf(['auto', 'kvm', 'tcg'] as const, 'auto',
    'KVM when it can run a guest here, else TCG (one line says so: timings are emulated); MNKVM_ACCEL sets what auto means'),
  image: {
    default: 'default', syntax: 'NAME', help: 'a guest image name under /var/cache/mnkvm/images, or a folder',
    parse: (v: unknown) => typeof v === 'string' && v !== '' ? v : { must: 'an image name or folder' },
  } satisfies Option<string>,
  bootTimeout: whole(120, 1, 'S', "seconds to wait for a guest's shell before failing (with its last console lines)"),
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
    help: "pin the VM's threads to these cores of the machine (a number, or a list in a script), as CPULimitedHost does; mn --pin sets it",
    parse: (v: unknown) => {
      if (v === null) return null;
      const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[ +]/) : [v];
      const cores = list.map((c) => (typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : c));
      return cores.length && cores.every((c) => Number.isInteger(c) && (c as number) >= 0) ? cores as number[] : { must: 'a core number or a list of them' };
    },
  } satisfies Option<number[] | null>,
};

export type KvmHostOptionName = keyof typeof KVM_HOST_OPTIONS;
type ValueOf<K extends KvmHostOptionName> = Exclude<ReturnType<(typeof KVM_HOST_OPTIONS)[K]['parse']>, { must: string }>;
/** Every KVM host option, with its value. */
export type KvmHostOptions = { [K in KvmHostOptionName]: ValueOf<K> };

export const KVM_HOST_OPTION_NAMES = Object.keys(KVM_HOST_OPTIONS) as KvmHostOptionName[];

/** One option's value, or the one-line error every path gives. */
export function kvmHostOption<K extends KvmHostOptionName>(name: K, value: unknown): ValueOf<K> {
  const parsed = KVM_HOST_OPTIONS[name].parse(value);
  if (parsed !== null && typeof parsed === 'object' && 'must' in parsed) {
    throw new MnkvmError(`KVM host option ${name}=${Array.isArray(value) ? value.join('+') : String(value)}: must be ${parsed.must}`);
  }
  return parsed as ValueOf<K>;
}

/** All options from those given (the others take their defaults); a name that is not an option is one line. */
export function kvmHostOptions(given: Record<string, unknown>): KvmHostOptions {
  const options: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(KVM_HOST_OPTION_NAMES as string[]).includes(name)) {
      throw new MnkvmError(`unknown KVM host option '${name}': use ${KVM_HOST_OPTION_NAMES.join(', ')} (e.g. --host kvm,mem=256,cpus=2)`);
    }
  }
  for (const name of KVM_HOST_OPTION_NAMES) {
    options[name] = name in given ? kvmHostOption(name, given[name]) : KVM_HOST_OPTIONS[name].default;
  }
  return options as KvmHostOptions;
}

/** The --help line: --host kvm[,mem=MiB][,cpus=N]... */
export function kvmHostSyntax(): string {
  return `--host kvm${KVM_HOST_OPTION_NAMES.map((n) => `[,${n}=${KVM_HOST_OPTIONS[n].syntax}]`).join('')}`;
}
