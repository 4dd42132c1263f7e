// Where a benchmark ran: enough to tell two result files apart.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { PROJECT_ROOT } from '../engine/paths.js';
import { bridgeNetfilterTables } from '../engine/netfilter.js';
import { QEMU, resolveAccel } from '../engine/guest/accel.js';
import { tuneCheck, type TuneCheck } from '../engine/tune/check.js';

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: PROJECT_ROOT }).split('\n')[0].trim();
  } catch {
    return 'unknown';
  }
}

function readOr(path: string, fallback: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : fallback;
}

export interface Fingerprint {
  date: string; command: string; kernel: string; kernelCmdline: string; cpuModel: string; cpus: number;
  cpuGovernor: string; isolatedCpus: string; bridgeNetfilter: string; machineMemoryMiB: number;
  accel: 'kvm' | 'tcg'; qemu: string; mininet: string; node: string; mnkvm: string; gitCommit: string;
  /** The real-time checklist of this machine (`mnkvm tune check --json`): how its hosts could be tuned. */
  tune: TuneCheck;
}

export function fingerprint(accel: 'kvm' | 'tcg'): Fingerprint {
  const pkg = JSON.parse(readFileSync(`${PROJECT_ROOT}/package.json`, 'utf8')) as { version: string };
  return {
    date: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
    kernel: release(),
    kernelCmdline: readOr('/proc/cmdline', ''),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    // isolcpus, nohz_full and friends are on the kernel command line; these say what they did
    cpuGovernor: readOr('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor', 'none (no cpufreq)'),
    isolatedCpus: readOr('/sys/devices/system/cpu/isolated', '') || 'none',
    // whether Linux bridges' traffic passes iptables (br_netfilter, which libvirtd loads)
    bridgeNetfilter: bridgeNetfilterTables().join(', ') || 'off',
    machineMemoryMiB: Math.round(totalmem() / 2 ** 20),
    accel,
    qemu: firstLine(QEMU, ['--version']),
    mininet: firstLine('dpkg-query', ['-W', '-f', '${Version}', 'mininet']),
    node: process.version,
    mnkvm: pkg.version,
    gitCommit: firstLine('git', ['rev-parse', 'HEAD']),
    tune: tuneCheck(),
  };
}

/** The accelerator KVM hosts get by default here. */
export function defaultAccel(): 'kvm' | 'tcg' {
  return resolveAccel('auto');
}
