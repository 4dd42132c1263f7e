// The resource log: every process, interface and bridge a run creates is
// appended here as it is created, so that a run can always be undone: on
// normal exit, on error, on a signal, or later by `mnkvm -c` after SIGKILL.
// Processes are named by (pid, start time) and never looked up by name.
// Names are global (an interface of the root namespace, a bridge, a
// cgroup): a run claims a name before it makes the thing (one file per
// name in RUN_ROOT/claims, made atomically), and removes only what it holds
// the claim of, so that a run that clashes with another never removes the
// other's network.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MnkvmError } from './errors.js';
import { isAlive, killIfSame, processId, run, startTime, waitGone, type ProcessId } from './proc.js';
import { RUN_ROOT } from './paths.js';

/** The guard's sweep (guard.ts, compiled next to this file). */
const GUARD = new URL('./guard.js', import.meta.url).pathname;

export type Resource =
  | { kind: 'vm'; name: string; proc: ProcessId }        // a QEMU process (own process group)
  | { kind: 'domain'; name: string; uri: string }        // a libvirt domain (transient: gone once destroyed)
  | { kind: 'shell'; name: string; proc: ProcessId }     // a Mininet node shell (kill its group)
  | { kind: 'process'; name: string; proc: ProcessId }   // e.g. the bridged Python, a file server
  | { kind: 'popen'; name: string; proc: ProcessId }     // a process started for a host (ssh for popen, a terminal)
  | { kind: 'intf'; name: string }                       // a root-namespace interface (claimed)
  | { kind: 'bridge'; name: string }                     // a Linux bridge (switch) (claimed)
  | { kind: 'ovsbr'; name: string }                      // an Open vSwitch bridge (switch) (claimed)
  | { kind: 'cgroup'; name: string }                     // CPULimitedHost's cpu,cpuacct,cpuset group /NAME (claimed)
  | { kind: 'claim'; of: NameKind; name: string }       // a name this run claimed (see claim)
  | { kind: 'rule'; args: string[] }                     // an iptables rule, as added (-A/-I), e.g. by mn --nat
  | { kind: 'sysctl'; key: string; value: string }       // a kernel setting's value before the run changed it
  | { kind: 'file'; path: string }                       // a file or folder of the run outside its record (e.g. a testbed server's disk)
  | { kind: 'restore'; what: string; steps: RestoreStep[] } // how to put back a device's state the run changes (an SR-IOV VF)
  | { kind: 'restored'; what: string };                  // ... put back already (restoreNow)

/**
 * One step of putting a device back, as data (the sweep knows no device):
 * a value written to a sysfs file, or a command run; unlessHeld: skip the
 * step while another run holds a claim of that kind whose name starts so
 * (e.g. a PF's VF count while another run uses its VFs).
 */
export type RestoreStep =
  | { write: string; value: string; unlessHeld?: { of: NameKind; prefix: string } }
  | { run: string[] };

export interface SweepReport { vms: number; shells: number; processes: number; intfs: number; bridges: number; cgroups: number; rules: number; files: number; devices: number }

/**
 * What a claimed name stands for: an interface or bridge of the root
 * namespace, a cgroup, an SR-IOV VF (its PCI address) or a VLAN of a PF
 * (PF:ID, or emulated:ID).
 */
export type NameKind = 'link' | 'cgroup' | 'vf' | 'vlan';
const NAME_KINDS: Record<NameKind, string> = { link: 'interface', cgroup: 'cgroup', vf: 'VF', vlan: 'VLAN' };

const CLAIMS = join(RUN_ROOT, 'claims');
const CGROUP_ROOT = '/sys/fs/cgroup';
/** The groups Mininet's CPULimitedHost makes (cgcreate -g cpu,cpuacct,cpuset:/NAME). */
export const CGROUP_CONTROLLERS = 'cpu,cpuacct,cpuset';

export class RunRecord {
  readonly dir: string;
  private readonly log: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.log = join(dir, 'resources.jsonl');
  }

  /**
   * Open a new record for this process, with its guard: a small process of
   * its own session that waits for this one to end and then sweeps the
   * record if it is still there. Whatever ends the run (SIGKILL too, e.g.
   * pexpect's close(), or a closed terminal) nothing is left.
   */
  static create(): RunRecord {
    const record = RunRecord.open(`run-${process.pid}-${startTime(process.pid)}`);
    // (it also ends once the record is gone: the run swept it itself)
    const guard = spawn('sh', ['-c', 'while [ -d /proc/$0 ] && [ -d "$3" ]; do sleep 0.5; done; exec "$1" "$2" "$3"',
      String(process.pid), process.execPath, GUARD, record.dir], { detached: true, stdio: 'ignore' });
    guard.unref();
    writeFileSync(join(record.dir, 'guard.pid'), `${guard.pid}\n`);
    return record;
  }

  /**
   * Open a record that outlives this process, with no guard: e.g. the
   * virtual testbed's, which `mnkvm testbed down` (or `mnkvm -c`) sweeps.
   * Only one record of a name at once: null if it exists already.
   */
  static createLasting(name: string): RunRecord | null {
    try {
      mkdirSync(RUN_ROOT, { recursive: true });
      mkdirSync(join(RUN_ROOT, `run-${name}`));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return null;
      throw e;
    }
    return RunRecord.open(`run-${name}`);
  }

  /** The lasting record of this name, if it exists. */
  static lasting(name: string): RunRecord | null {
    const dir = join(RUN_ROOT, `run-${name}`);
    return existsSync(dir) ? new RunRecord(dir) : null;
  }

  /** Make (or take) the record folder name under RUN_ROOT, owned by this process. */
  private static open(name: string): RunRecord {
    const owner = processId(process.pid);
    const dir = join(RUN_ROOT, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ ...owner, argv: process.argv }) + '\n');
    return new RunRecord(dir);
  }

  /** The record in dir (for the guard). */
  static at(dir: string): RunRecord {
    return new RunRecord(dir);
  }

  /** Records of runs whose owning process is gone. */
  static orphans(): RunRecord[] {
    return RunRecord.all().filter((r) => !r.ownerAlive());
  }

  /** Records of runs owned by this process (e.g. an API network a test left running). */
  static mine(): RunRecord[] {
    return RunRecord.all().filter((r) => r.dir.startsWith(join(RUN_ROOT, `run-${process.pid}-`)));
  }

  private static all(): RunRecord[] {
    if (!existsSync(RUN_ROOT)) return [];
    return readdirSync(RUN_ROOT).filter((d) => d.startsWith('run-')).map((d) => new RunRecord(join(RUN_ROOT, d)));
  }

  private owner(): (ProcessId & { argv?: string[] }) | null {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'owner.json'), 'utf8')) as ProcessId & { argv?: string[] };
    } catch {
      return null;
    }
  }

  ownerAlive(): boolean {
    const owner = this.owner();
    return owner !== null && isAlive(owner);
  }

  /** "pid 1234: mnkvm --topo single,2", for messages about another run. */
  private describeOwner(): string {
    const owner = this.owner();
    if (!owner) return basename(this.dir);
    const [script = '?', ...args] = (owner.argv ?? []).slice(1);
    const command = /(^|\/)(mnkvm|main\.js)$/.test(script) ? 'mnkvm' : basename(script);
    return `pid ${owner.pid}: ${[command, ...args].join(' ')}`;
  }

  add(resource: Resource): void {
    appendFileSync(this.log, JSON.stringify(resource) + '\n');
  }

  /**
   * Claim a global name before making the thing it names: one line naming
   * who has it where it is taken (another run, a run that ended and left
   * it, or something that is not mnkvm's). Claiming a name twice is fine.
   */
  claim(kind: NameKind, name: string): void {
    mkdirSync(CLAIMS, { recursive: true });
    const path = claimPath(kind, name);
    const what = `${NAME_KINDS[kind]} ${name}`;
    if (this.holds(kind, name)) return;
    this.add({ kind: 'claim', of: kind, name });
    // The claim appears whole (a hard link to a file already written: this
    // run's name), or not at all.
    const mark = join(this.dir, 'claim');
    if (!existsSync(mark)) writeFileSync(mark, basename(this.dir));
    for (let attempt = 0; ; attempt++) {
      if (attempt > 5) throw new MnkvmError(`${what}: could not claim the name (it keeps changing hands): try again`);
      try {
        linkSync(mark, path);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {   // another run removed the emptied folder this moment
          mkdirSync(CLAIMS, { recursive: true });
          continue;
        }
        if (code !== 'EEXIST') throw e;
      }
      const holder = readClaim(path);
      if (holder === basename(this.dir)) return;
      if (holder === null) continue;   // given back this moment
      const other = new RunRecord(join(RUN_ROOT, holder));
      if (other.ownerAlive()) {
        throw new MnkvmError(`${what} is in use by another mnkvm run (${other.describeOwner()}): stop that run first, or use other names`,
          'clash', { name, holder: 'run', pid: other.owner()?.pid ?? null });
      }
      if (nameExists(kind, name)) {
        throw new MnkvmError(`${what} was left by an mnkvm run that has ended (${other.describeOwner()}): remove it with \`mnkvm -c\``,
          'clash', { name, holder: 'ended run' });
      }
      rmSync(path, { force: true });   // a stale claim of an ended run whose thing is gone
    }
    // (a VF or a VLAN exists by nature: holding its claim is what counts)
    if ((kind === 'link' || kind === 'cgroup') && nameExists(kind, name)) {
      rmSync(path, { force: true });
      throw new MnkvmError(`${what} already exists on this machine and is not mnkvm's: remove it, or use other names`,
        'clash', { name, holder: 'machine' });
    }
  }

  /** `mnkvm -c`: drop claims whose run left no record (its folder was removed by hand): nobody can prove they made the thing. */
  static dropStrayClaims(): string[] {
    if (!existsSync(CLAIMS)) return [];
    const stray = readdirSync(CLAIMS).filter((c) => {
      const holder = readClaim(join(CLAIMS, c));
      return holder !== null && !existsSync(join(RUN_ROOT, holder));
    });
    for (const c of stray) rmSync(join(CLAIMS, c), { force: true });
    return stray;
  }

  /** Give a claim back (the thing was not made after all): the sweep then leaves that name alone. */
  release(kind: NameKind, name: string): void {
    if (this.holds(kind, name)) rmSync(claimPath(kind, name), { force: true });
  }

  /** Does this run hold the claim of the name? Only then may it remove what the name names. */
  holds(kind: NameKind, name: string): boolean {
    return readClaim(claimPath(kind, name)) === basename(this.dir);
  }

  resources(): Resource[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Resource);
  }

  /** Put back what now (e.g. a VF a link gives back), as the sweep would, once. */
  async restoreNow(what: string): Promise<void> {
    const steps = pendingRestores(this.resources().filter((r) => 'what' in r && r.what === what))[0];
    if (!steps) return;
    await this.restore(steps);
    this.add({ kind: 'restored', what });
  }

  /** Take restore steps in order, each whatever the last did; true if any changed something. */
  private async restore(steps: RestoreStep[]): Promise<boolean> {
    let changed = false;
    for (const step of steps) {
      if ('run' in step) {
        changed = (await run(step.run[0], step.run.slice(1))).code === 0 || changed;
        continue;
      }
      if (step.unlessHeld && heldByOthers(step.unlessHeld.of, step.unlessHeld.prefix, basename(this.dir))) continue;
      try {
        writeFileSync(step.write, step.value);
        changed = true;
      } catch {
        // gone, or the value is already in place (a driver refuses an unbind it is not bound to)
      }
    }
    return changed;
  }

  /** Remove everything recorded that still exists and this run made (see claim), then the record itself. */
  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { vms: 0, shells: 0, processes: 0, intfs: 0, bridges: 0, cgroups: 0, rules: 0, files: 0, devices: 0 };
    const all = this.resources();
    // libvirt domains first: libvirtd ends their QEMU (libvirtd's child, not this run's)
    for (const r of all) {
      if (r.kind === 'domain' && (await run('virsh', ['-q', '-c', r.uri, 'destroy', r.name])).code === 0) report.vms++;
    }
    const procs = all.filter((r): r is Extract<Resource, { proc: ProcessId }> => 'proc' in r);
    for (const r of procs) {
      // QEMU and node shells lead their own process groups: take their children too.
      if (killIfSame(r.proc, 'SIGKILL', r.kind !== 'process' && r.kind !== 'popen')) {
        report[r.kind === 'vm' ? 'vms' : r.kind === 'shell' ? 'shells' : 'processes']++;
      }
    }
    for (const r of procs) await waitGone(r.proc, 3000);
    // Devices put back (QEMU has let go of its VFs), the last changed first,
    // before their claims go and before interfaces are deleted.
    for (const steps of pendingRestores(all).reverse()) {
      if (await this.restore(steps)) report.devices++;
    }
    const named = all.filter((r): r is Extract<Resource, { kind: 'intf' | 'bridge' | 'ovsbr' | 'cgroup' }> =>
      ['intf', 'bridge', 'ovsbr', 'cgroup'].includes(r.kind));
    const mine = named.filter((r) => this.holds(r.kind === 'cgroup' ? 'cgroup' : 'link', r.name));
    const links = new Set((await run('ip', ['-o', 'link', 'show'])).stdout
      .split('\n').map((l) => l.split(': ')[1]?.split('@')[0]).filter(Boolean));
    const dels: string[] = [];
    for (const r of mine) {
      if ((r.kind === 'intf' || r.kind === 'bridge') && links.has(r.name)) {
        dels.push(`link del ${r.name}`);
        links.delete(r.name);
        report[r.kind === 'intf' ? 'intfs' : 'bridges']++;
      }
    }
    // -force: go on past an interface that vanished with its peer meanwhile.
    if (dels.length) await run('ip', ['-force', '-batch', '-'], dels.join('\n') + '\n');
    const ovs = mine.filter((r) => r.kind === 'ovsbr').map((r) => r.name);
    if (ovs.length) {
      const out = await run('ovs-vsctl', ['list-br']);
      const existing = new Set(out.stdout.split('\n'));
      for (const br of ovs.filter((b) => existing.has(b))) {
        await run('ovs-vsctl', ['--if-exists', 'del-br', br]);
        report.bridges++;
      }
    }
    for (const r of mine.filter((g) => g.kind === 'cgroup')) {
      // Its processes were killed above. Each controller's group is removed
      // on its own: cgdelete -r cpu,cpuacct,cpuset:/NAME (as Mininet runs it)
      // removes only the first where each has a hierarchy of its own.
      const dirs = cgroupDirs(r.name).filter((d) => existsSync(d));
      for (const d of dirs) await removeCgroup(d);
      if (dirs.length) report.cgroups++;
    }
    for (const r of all) if (r.kind === 'claim') this.release(r.of, r.name);
    try {
      rmdirSync(CLAIMS);   // only if no run holds a claim: nothing is left in RUN_ROOT after the last run
    } catch {
      // claims of other runs
    }
    // Rules still there (a run that ended normally deleted its own: -D fails), then settings put back.
    for (const r of all) {
      if (r.kind !== 'rule') continue;
      if ((await run('iptables', r.args.map((a) => (a === '-A' || a === '-I' ? '-D' : a)))).code === 0) report.rules++;
    }
    for (const r of all) {
      if (r.kind === 'sysctl') await run('sysctl', ['-qw', `${r.key}=${r.value}`]);
      if (r.kind === 'file' && existsSync(r.path)) {
        rmSync(r.path, { recursive: true, force: true });
        report.files++;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    return report;
  }
}

function claimPath(kind: NameKind, name: string): string {
  return join(CLAIMS, `${kind}-${name}`);
}

/** The run (its record's folder name) holding a claim, or null. */
function readClaim(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The steps of restore entries not yet done (a later 'restored' of the same thing), in the order recorded. */
function pendingRestores(all: Resource[]): RestoreStep[][] {
  const pending = new Map<string, RestoreStep[]>();
  for (const r of all) {
    if (r.kind === 'restore') pending.set(r.what, r.steps);
    if (r.kind === 'restored') pending.delete(r.what);
  }
  return [...pending.values()];
}

/** Does another run whose owner lives hold a claim of kind whose name starts with prefix? */
function heldByOthers(kind: NameKind, prefix: string, me: string): boolean {
  if (!existsSync(CLAIMS)) return false;
  return readdirSync(CLAIMS).filter((c) => c.startsWith(`${kind}-${prefix}`)).some((c) => {
    const holder = readClaim(join(CLAIMS, c));
    return holder !== null && holder !== me && RunRecord.at(join(RUN_ROOT, holder)).ownerAlive();
  });
}

/**
 * Does the thing a name names exist now, in a state only `mnkvm -c` puts
 * right? (This process is in the root network namespace.) A VF always
 * exists: its run's sweep gives it back; a VLAN is only a number.
 */
function nameExists(kind: NameKind, name: string): boolean {
  if (kind === 'link') return existsSync(join('/sys/class/net', name));
  if (kind === 'vf') return existsSync(join('/sys/bus/pci/devices', name));
  if (kind === 'vlan') return false;
  return cgroupDirs(name).some((d) => existsSync(d));
}

/** rmdir a cgroup (its control files go with it); a moment's retry while its last tasks exit. */
async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Where a cgroup NAME of CPULimitedHost's controllers lives: one folder per v1 hierarchy, or v2's one tree. */
function cgroupDirs(name: string): string[] {
  return [...CGROUP_CONTROLLERS.split(','), ''].map((c) => join(CGROUP_ROOT, c, name));
}

const NOUNS: Record<keyof SweepReport, [string, string]> = {
  vms: ['VM', 'VMs'], shells: ['shell', 'shells'], processes: ['process', 'processes'],
  intfs: ['interface', 'interfaces'], bridges: ['bridge', 'bridges'], cgroups: ['cgroup', 'cgroups'],
  rules: ['iptables rule', 'iptables rules'], files: ['file', 'files'], devices: ['device put back', 'devices put back'],
};

/** "2 VMs, 1 bridge", or "" when nothing was left. */
export function describeSweep(r: SweepReport): string {
  return (Object.keys(NOUNS) as (keyof SweepReport)[])
    .filter((k) => r[k] > 0).map((k) => `${r[k]} ${NOUNS[k][r[k] === 1 ? 0 : 1]}`).join(', ');
}

