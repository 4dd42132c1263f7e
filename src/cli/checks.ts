// What mnkvm checks before it builds anything, each failure one line that says what to do.
import { MnkvmError } from '../engine/errors.js';
import { loadImage } from '../engine/image.js';
import { qemuVersion } from '../engine/qemu/accel.js';
import { kvmHostOptions } from '../engine/options.js';

/** Host options Mininet itself takes (Host.config and Node): they pass through --host kvm too. */
const HOST_OPTIONS = ['ip', 'mac', 'defaultRoute', 'lo', 'privateDirs', 'inNamespace'];

/** The value of option `--name` in mn-style argv, if any. */
export function optionValue(argv: string[], name: string): string | undefined {
  let value: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === name) value = argv[i + 1];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  });
  return value;
}

/** mn's --cluster replaces every host by its own RemoteHost: say so rather than drop --host kvm. */
export function checkCluster(argv: string[]): void {
  if (optionValue(argv, '--cluster') !== undefined && optionValue(argv, '--host')?.split(',')[0] === 'kvm') {
    throw new MnkvmError("--cluster runs Mininet's cluster edition, whose hosts are its own RemoteHost: drop --host kvm or --cluster");
  }
}

/** For `--host kvm[,key=value...]` (other hosts pass): check it and what KVM hosts need (QEMU, the guest image). */
export function checkKvmHost(spec: string | undefined): void {
  const [kind, ...params] = spec?.split(',') ?? [];
  if (kind !== 'kvm') return;
  const given: Record<string, string> = {};
  for (const param of params) {
    const [key, value] = param.split('=', 2);
    if (value === undefined) continue;   // positional arguments are Mininet's business
    if (!HOST_OPTIONS.includes(key)) given[key] = value;
  }
  const { image } = kvmHostOptions(given);
  qemuVersion();   // QEMU is there and runs
  loadImage(image);
}
