// What mnkvm checks before it builds anything, each failure one line that says what to do.
import { MnkvmError } from '../engine/errors.js';
import { loadImage } from '../engine/image.js';
import { qemuVersion } from '../engine/guest/accel.js';
import { kvmHostSpecOptions } from '../engine/options.js';

/** The value of option `--name` in mn-style argv, if any. */
export function optionValue(argv: string[], name: string): string | undefined {
  let value: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === name) value = argv[i + 1];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  });
  return value;
}

/** mn's --cluster replaces every host, switch and link by its own: mnkvm spreads a network with --servers, keeping them. */
export function checkCluster(argv: string[]): void {
  if (optionValue(argv, '--cluster') !== undefined) {
    throw new MnkvmError('mnkvm spreads a network over servers with --servers (testbed servers or user@host, --placement to choose how), ' +
      "not mn's --cluster, which replaces your host, switch and link classes: use --servers");
  }
}

/** argv without option `--name` (and its value); the value, if given. */
export function takeOption(argv: string[], name: string): [string | undefined, string[]] {
  const value = optionValue(argv, name);
  const rest = argv.filter((arg, i) => arg !== name && !arg.startsWith(`${name}=`) && argv[i - 1] !== name);
  return [value, rest];
}

/** For `--host kvm[,key=value...]` (other hosts pass): check it and what KVM hosts need (QEMU, the guest image). */
export function checkKvmHost(spec: string | undefined): void {
  const options = spec === undefined ? null : kvmHostSpecOptions(spec);
  if (!options) return;
  qemuVersion();   // QEMU is there and runs
  loadImage(options.image);
}
