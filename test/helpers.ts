// Test helpers: run the real mnkvm command (as a user would), bounded in
// time, in its own process group so that tests can signal it like a terminal.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/engine/paths.js';
import { RunRecord } from '../src/engine/records.js';
import { bound, boundText } from './speed.js';

export const CLI = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');
export const SCRIPTS = join(PROJECT_ROOT, 'test', 'scripts');

/** Guests run under TCG in tests unless MNKVM_ACCEL says otherwise: same results on every machine. */
export const TEST_ENV = { ...process.env, MNKVM_ACCEL: process.env.MNKVM_ACCEL ?? 'tcg' };

export interface Result { code: number | null; signal: NodeJS.Signals | null; out: string; err: string }

export class Mnkvm {
  /** Runs not yet finished: a failed test's run is stopped before the next test. */
  static readonly live = new Set<Mnkvm>();
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly done: Promise<Result>;
  private timer: NodeJS.Timeout;

  /** timeoutMs: the run's bound on the reference machine (scaled by the speed factor); then it is killed. */
  /** file: a program of dist/ to run instead of mnkvm's command (examples/servers.js). */
  constructor(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number; file?: string } = {}) {
    this.child = spawn(process.execPath, [opts.file ? join(PROJECT_ROOT, 'dist', opts.file) : CLI, ...args], {
      detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? TEST_ENV, uid: opts.uid, gid: opts.uid,
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => { this.out += d; });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => { this.err += d; });
    const timeoutMs = opts.timeoutMs ?? 240_000;
    this.timer = setTimeout(() => {
      this.err += `\n[test: \`${opts.file ? `node ${opts.file}` : 'mnkvm'} ${args.join(' ')}\` killed by its bound of ${boundText(timeoutMs)}]\n`;
      this.signal('SIGKILL');
    }, bound(timeoutMs));
    Mnkvm.live.add(this);
    this.done = new Promise((resolve) => this.child.once('close', (code, signal) => {
      Mnkvm.live.delete(this);
      clearTimeout(this.timer);
      resolve({ code, signal, out: this.out, err: this.err });
    }));
  }

  /** Signal the whole process group, as a terminal's Ctrl-C does. */
  signal(sig: NodeJS.Signals, group = true): void {
    try {
      process.kill(group ? -this.child.pid! : this.child.pid!, sig);
    } catch {
      // already gone
    }
  }

  /** Wait until stdout+stderr (or stdout alone) match re (bounded). */
  async waitFor(re: RegExp, { timeoutMs = 180_000, stdoutOnly = false } = {}): Promise<void> {
    await waitUntil(() => {
      const seen = re.test(stdoutOnly ? this.out : this.out + this.err);
      if (!seen && this.child.exitCode !== null) throw new Error(`mnkvm exited waiting for ${re}:\n${this.out}\n${this.err}`);
      return seen;
    }, timeoutMs, `timed out waiting for ${re}`, () => `output so far:\n${this.out}\n${this.err}`);
  }

  send(text: string): void {
    this.child.stdin!.write(text);
  }
}

/**
 * Poll check() every 50 ms until it holds; after timeoutMs (on the reference
 * machine: scaled by the speed factor) fail with what, the bound, and details().
 */
export async function waitUntil(check: () => boolean, timeoutMs: number, what: string, details?: () => string): Promise<void> {
  const end = Date.now() + bound(timeoutMs);
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} (bound: ${boundText(timeoutMs)})${details ? `; ${details()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Run mnkvm (or file: a program of dist/) to its end; input: what its stdin reads (e.g. Mininet's CLI commands), then end of file. */
export function mnkvm(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number; input?: string; file?: string } = {}): Promise<Result> {
  const run = new Mnkvm(args, opts);
  run.child.stdin!.end(opts.input ?? '');
  return run.done;
}

/**
 * Assert that nothing is left (the kernel frees a dead namespace's veths a
 * moment later, so look again for up to 3 s); on failure, clean up with
 * `mnkvm -c` so that the next test starts clean.
 */
export async function expectClean(): Promise<void> {
  for (const run of Mnkvm.live) {
    run.signal('SIGTERM', false);
    const stopped = await Promise.race([run.done.then(() => true), new Promise((r) => setTimeout(() => r(false), 30_000))]);
    if (!stopped) run.signal('SIGKILL');
    await run.done;
  }
  let left = leftovers();
  for (let i = 0; i < 30 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = leftovers();
  }
  if (left.length) {
    await mnkvm(['-c']);
    for (const record of RunRecord.mine()) await record.sweep();
  }
  if (left.length) throw new Error(`left behind:\n${left.join('\n')}`);
}

/** Everything a run may leave behind; [] when the machine is clean. */
export function leftovers(): string[] {
  const found: string[] = [];
  const runDir = process.env.MNKVM_RUN_DIR ?? '/run/mnkvm';
  if (existsSync(runDir)) found.push(...readdirSync(runDir).filter((d) => d.startsWith('run-')).map((d) => `record ${d}`));
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      // A zombie holds nothing but its pid (this machine's init may not reap orphans).
      if (/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      // QEMU, node shells, a host's ssh (popen, terminals), a guest's file server, a published port's relay
      if (/^mnkvm(-testbed)?:/.test(comm) || /bash .*-is mininet:|root@169\.254\.0\.2|sftp-server -l QUIET|mnkvm\/portforward\.py/.test(cmdline)) {
        found.push(`process ${pid} ${comm} ${cmdline.trim()}`);
      }
    } catch {
      // exited meanwhile
    }
  }
  for (const intf of readdirSync('/sys/class/net')) {
    // Mininet's names, and emulated SR-IOV's VLAN bridges and ports
    if (/^(h|s)\d+(-eth\d+)?$|^mkvlan\d+$|^mkv\d+p\d+$|^mkt[0-9a-f]{8}$/.test(intf)) found.push(`interface ${intf}`);
  }
  // CPULimitedHost's cgroups, and names still claimed
  for (const controller of ['cpu', 'cpuacct', 'cpuset']) {
    const dir = `/sys/fs/cgroup/${controller}`;
    if (existsSync(dir)) found.push(...readdirSync(dir).filter((g) => /^(h|s)\d+$/.test(g)).map((g) => `cgroup ${controller}:/${g}`));
  }
  // libvirt domains (backend=libvirt), where libvirtd runs
  const domains = spawnSync('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name'], { encoding: 'utf8' }).stdout ?? '';
  found.push(...domains.split('\n').filter((d) => d.startsWith('mnkvm-')).map((d) => `libvirt domain ${d}`));
  // a virtual testbed's server disks
  const disks = process.env.MNKVM_TESTBED_DISKS ?? '/var/tmp/mnkvm/testbed';
  if (existsSync(disks)) found.push(...readdirSync(disks).map((d) => `testbed disk ${d}`));
  if (existsSync(join(runDir, 'claims'))) found.push(...readdirSync(join(runDir, 'claims')).map((c) => `claim ${c}`));
  // mn --nat's rules (its interface is nat0-eth0; it masquerades 10.0.0.0/8)
  const rules = spawnSync('sh', ['-c', 'iptables -S FORWARD; iptables -t nat -S POSTROUTING'], { encoding: 'utf8' }).stdout;
  found.push(...rules.split('\n').filter((r) => /nat0-eth0|-s 10\.0\.0\.0\/8 .*MASQUERADE/.test(r)).map((r) => `iptables ${r}`));
  return found;
}

/** Run a TypeScript program of dist/ (node FILE ARGS) to its end, as mnkvm() runs mnkvm. */
export function program(file: string, args: string[] = [], opts: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
  return mnkvm(args, { ...opts, file });
}
