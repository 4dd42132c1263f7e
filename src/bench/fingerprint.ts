// Where a benchmark ran: enough to tell two result files apart.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { PROJECT_ROOT } from '../engine/paths.js';
import { autoAccel, kvmAvailable, QEMU } from '../engine/qemu.js';

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: PROJECT_ROOT }).split('\n')[0].trim();
  } catch {
    return 'unknown';
  }
}

export interface Fingerprint {
  date: string; command: string; kernel: string; kernelCmdline: string; cpuModel: string; cpus: number;
  accel: 'kvm' | 'tcg'; qemu: string; mininet: string; node: string; mnkvm: string; gitCommit: string;
}

export function fingerprint(accel: 'kvm' | 'tcg'): Fingerprint {
  const pkg = JSON.parse(readFileSync(`${PROJECT_ROOT}/package.json`, 'utf8')) as { version: string };
  return {
    date: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
    kernel: release(),
    kernelCmdline: existsSync('/proc/cmdline') ? readFileSync('/proc/cmdline', 'utf8').trim() : '',
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    accel,
    qemu: firstLine(QEMU, ['--version']),
    mininet: firstLine('dpkg-query', ['-W', '-f', '${Version}', 'mininet']),
    node: process.version,
    mnkvm: pkg.version,
    gitCommit: firstLine('git', ['rev-parse', 'HEAD']),
  };
}

/** The accelerator KVM hosts get by default here. */
export function defaultAccel(): 'kvm' | 'tcg' {
  const choice = autoAccel();
  return choice === 'tcg' || (choice === 'auto' && !kvmAvailable()) ? 'tcg' : 'kvm';
}
