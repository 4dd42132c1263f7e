// The one accelerator policy: what accel=auto means, whether KVM can run a
// guest here (probed once per boot of the machine and QEMU binary, and
// remembered) or on a server, and whether QEMU (which every backend runs)
// runs at all. Everything that needs to know (both backends, templates, the
// bench's fingerprint, the testbed) asks here.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, delimiter, join } from 'node:path';
import { MnkvmError } from '../errors.js';
import { KVM_PROBE } from '../paths.js';

export const QEMU = process.env.MNKVM_QEMU ?? 'qemu-system-x86_64';
export type Accel = 'kvm' | 'tcg';
export type AccelChoice = Accel | 'auto';
/** The accelerator a guest gets, and a line for the user where it is TCG. */
export interface AccelChosen { accel: Accel; notice: string | null }

/** What accel=auto means: MNKVM_ACCEL when set (auto, kvm or tcg), else auto. */
export function accelChoice(): AccelChoice {
  const env = process.env.MNKVM_ACCEL ?? 'auto';
  if (env !== 'auto' && env !== 'kvm' && env !== 'tcg') {
    throw new MnkvmError(`MNKVM_ACCEL=${env}: use auto, kvm or tcg`);
  }
  return env;
}

let version: string | undefined;

/** QEMU's version line; one line naming the cause where QEMU is missing or does not run. */
export function qemuVersion(): string {
  if (version) return version;
  const path = qemuPath();
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const line = r.stdout?.split('\n')[0].trim() ?? '';
  if (r.error || r.status !== 0 || !/QEMU emulator version/.test(line)) {
    const why = r.error?.message ?? (r.stderr?.trim().split('\n').at(-1) || `exit status ${r.status ?? r.signal}, no version`);
    throw new MnkvmError(`QEMU does not run: ${path} --version failed (${why}): install it with ./setup.sh, or set MNKVM_QEMU to a working qemu-system-x86_64`);
  }
  version = line;
  return version;
}

function qemuPath(): string {
  const found = QEMU.includes('/') ? QEMU
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, QEMU)).find((p) => isExecutable(p));
  if (!found || !isExecutable(found)) {
    throw new MnkvmError(`${QEMU} not found: install it with ./setup.sh (Debian package qemu-system-x86), or set MNKVM_QEMU`);
  }
  return found;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface KvmProbe { usable: boolean; reason: string }

let probed: KvmProbe | undefined;

/**
 * Can KVM run a guest here? /dev/kvm may open and still fail (e.g. nested
 * KVM that runs only special guests): QEMU boots a one-sector guest that
 * exits through isa-debug-exit. The answer is kept per boot of the machine
 * and QEMU binary (KVM_PROBE, in tmpfs).
 */
export function kvmProbe(): KvmProbe {
  if (probed) return probed;
  const path = qemuPath();
  const binary = realpathSync(path);
  const { mtimeMs, size } = statSync(binary);
  const key = JSON.stringify([readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), binary, mtimeMs, size]);
  try {
    const saved = JSON.parse(readFileSync(KVM_PROBE, 'utf8')) as KvmProbe & { key: string };
    if (saved.key === key) return (probed = { usable: saved.usable, reason: saved.reason });
  } catch {
    // not probed yet
  }
  probed = runProbe(path);
  mkdirSync(dirname(KVM_PROBE), { recursive: true });
  writeFileSync(KVM_PROBE, JSON.stringify({ key, ...probed }) + '\n');
  return probed;
}

function runProbe(qemu: string): KvmProbe {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { usable: false, reason: 'no /dev/kvm' };
  }
  const dir = join(dirname(KVM_PROBE), `.kvm-probe-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  // mov al,1; out 0xf4,al; hlt: QEMU exits with status (1 << 1) | 1 = 3
  const sector = Buffer.alloc(512);
  Buffer.from([0xb0, 0x01, 0xe6, 0xf4, 0xf4, 0xeb, 0xfe]).copy(sector);
  sector.writeUInt16LE(0xaa55, 510);
  writeFileSync(join(dir, 'boot.img'), sector);
  const r = spawnSync(qemu, ['-accel', 'kvm', '-machine', 'pc', '-cpu', 'host', '-nodefaults', '-display', 'none',
    '-no-reboot', '-m', '16', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
    '-drive', `file=${join(dir, 'boot.img')},format=raw,if=ide`], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  rmSync(dir, { recursive: true, force: true });
  if (r.status === 3) return { usable: true, reason: 'KVM ran a test guest' };
  const last = r.stderr?.trim().split('\n').at(-1);
  const why = r.error ? 'no answer within 10 s' : last || `exit status ${r.status ?? r.signal}`;
  return { usable: false, reason: `/dev/kvm could not run a test guest: ${why}` };
}

/** What a host's accel option asks for: 'auto' means what MNKVM_ACCEL says. */
function wanted(choice: AccelChoice): AccelChoice {
  return choice === 'auto' ? accelChoice() : choice;
}

/** The accelerator a VM gets for this choice; accel=kvm where KVM cannot run a guest is one line. */
export function resolveAccel(choice: AccelChoice): Accel {
  if (wanted(choice) === 'tcg') return 'tcg';
  const kvm = kvmProbe();
  if (kvm.usable) return 'kvm';
  if (wanted(choice) === 'kvm') throw new MnkvmError(`accel=kvm, but KVM cannot run guests here (${kvm.reason}): use accel=tcg or accel=auto`);
  return 'tcg';
}

/** The one line a run says when its guests are emulated. */
export function tcgNotice(choice: AccelChoice): string {
  const why = wanted(choice) === 'tcg' ? 'accel=tcg' : kvmProbe().reason;
  return `*** mnkvm: guests run under TCG emulation (${why}): timings are emulated`;
}

/** The accelerator a guest here gets for choice, and the line that says so where it is TCG. */
export function localAccel(choice: AccelChoice): AccelChosen {
  const accel = resolveAccel(choice);
  return { accel, notice: accel === 'tcg' ? tcgNotice(choice) : null };
}

/** A server's accelerator for choice: KVM where it has /dev/kvm (its preflight says). */
export function serverAccel(server: string, kvm: boolean, choice: AccelChoice): AccelChosen {
  if (choice === 'kvm' && !kvm) throw new MnkvmError(`${server}: accel=kvm, but the server has no /dev/kvm: use accel=auto or accel=tcg, or turn KVM on there`);
  const accel = choice === 'auto' ? (kvm ? 'kvm' : 'tcg') : choice;
  return { accel, notice: accel === 'tcg' ? `*** mnkvm: KVM hosts on ${server} run under TCG (emulated CPU: slower; latency figures are not comparable)` : null };
}
