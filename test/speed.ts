// The suite's speed factor: how much slower this machine runs KVM hosts
// than the one the tests' time bounds were written for. Machines differ
// about 3x under TCG (an AMD EPYC at 2.1 GHz ran treeping64.py in 33 min,
// another machine in 11), so every bound is written for the faster one and
// scaled by this factor, measured once when the suite starts. A test never
// fails for lack of speed, and a bound that expires says its value and the
// factor. MNKVM_TEST_SPEED=F sets the factor instead of measuring it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/engine/paths.js';

/**
 * What the probe (one KVM host booted cold under TCG, through the whole
 * mnkvm command: `mnkvm --topo single,1 --host kvm,boot=cold --test none`)
 * takes where the bounds were written: 2 s. (It takes 5.4 s on the EPYC
 * above, idle; a third of that would be 1.8 s, but Node's and Python's
 * start-up in it do not slow down as much as TCG does.)
 */
export const REFERENCE_PROBE_S = 2;

let factor = Number(process.env.MNKVM_TEST_SPEED) || 0;
let probeS = 0;

/** The probe's time in seconds (0 where MNKVM_TEST_SPEED gave the factor). */
export function probeSeconds(): number {
  return probeS;
}

/** The speed factor (1 until the suite has measured it, and never below 1). */
export function speedFactor(): number {
  return factor || 1;
}

/** baseMs, a time bound written for the reference machine, scaled to this one. */
export function bound(baseMs: number): number {
  return Math.round(baseMs * speedFactor());
}

/** What a bound is, for the message of one that expired: "600 s (240 s x speed factor 2.50)". */
export function boundText(baseMs: number): string {
  return `${bound(baseMs) / 1000} s (${baseMs / 1000} s x speed factor ${speedFactor().toFixed(2)}; MNKVM_TEST_SPEED=F sets the factor)`;
}

/** Time the probe, the faster of two runs (the first may read the image from disk): the suite's first step. */
export function measure(): void {
  if (factor) return;
  const cli = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');
  const times = [1, 2].map(() => {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, '--topo', 'single,1', '--host', 'kvm,boot=cold', '--switch', 'lxbr', '--controller', 'none', '--test', 'none'],
      { encoding: 'utf8', env: { ...process.env, MNKVM_ACCEL: 'tcg' }, timeout: 300_000 });
    if (r.status !== 0) throw new Error(`the speed probe (one KVM host, mnkvm --topo single,1 --host kvm) failed: run ./setup.sh first\n${r.stdout}${r.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e9;
  });
  probeS = Math.min(...times);
  factor = Math.max(1, probeS / REFERENCE_PROBE_S);
}
