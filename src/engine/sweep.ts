// What a run record holds, kind by kind, and how the sweep removes each.
// KINDS has one entry per kind: its fields as recorded, the step of the
// sweep that removes it, and its remover (which leaves alone what is gone,
// or is not this run's: a name it does not hold the claim of, a pid whose
// start time differs). A new kind is one entry there.
import { existsSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { cgroupDirs, Claims, type NameKind } from './claims.js';
import { killIfSame, run, waitGone, type ProcessId } from './proc.js';

/**
 * One step of putting a device back, as data (the sweep knows no device):
 * a value written to a sysfs file, or a command run; unlessHeld: skip the
 * step while another run holds a claim of that kind whose name starts so
 * (e.g. a PF's VF count while another run uses its VFs).
 */
export type RestoreStep =
  | { write: string; value: string; unlessHeld?: { of: NameKind; prefix: string } }
  | { run: string[] };

/** What a sweep counts, with the nouns (one, many) its message uses, in the order the message names them. */
const COUNTS = {
  vms: ['VM', 'VMs'], shells: ['shell', 'shells'], processes: ['process', 'processes'],
  intfs: ['interface', 'interfaces'], bridges: ['bridge', 'bridges'], cgroups: ['cgroup', 'cgroups'],
  rules: ['iptables rule', 'iptables rules'], files: ['file', 'files'], devices: ['device put back', 'devices put back'],
} as const;
type Count = keyof typeof COUNTS;
export type SweepReport = Record<Count, number>;

/**
 * The steps of a sweep, in this order: a step may need what an earlier one
 * did. Within a step, things go in the order recorded (reverse: the last
 * first); done: what the step does once its things are removed.
 */
type Step = 'domains' | 'processes' | 'devices' | 'links' | 'ovs' | 'cgroups' | 'claims' | 'rules' | 'settings';
const STEPS: Record<Step, { reverse?: boolean; done?: (sweep: Sweep) => Promise<void> | void }> = {
  // libvirt domains first: libvirtd ends their QEMU (libvirtd's child, not this run's)
  domains: {},
  processes: { done: (sweep) => sweep.waitStopped() },
  // Devices put back (QEMU has let go of its VFs), the last changed first,
  // before their claims go and before interfaces are deleted.
  devices: { reverse: true },
  links: { done: (sweep) => sweep.deleteLinks() },
  ovs: {},
  // (their processes were killed above)
  cgroups: {},
  claims: { done: () => Claims.dropFolder() },
  // Rules still there (a run that ended normally deleted its own: -D fails), then settings put back.
  rules: {},
  settings: {},
};

/** A kind of thing a record holds, with fields F: the step of the sweep that removes it, and how (what it counts as, when removed). */
interface Kind<F> { step: Step; remove: (r: F, sweep: Sweep) => Promise<Count | null> }
function kind<F>(step: Step, remove: Kind<F>['remove']): Kind<F> {
  return { step, remove };
}

const KINDS = {
  /** a libvirt domain (transient: gone once destroyed) */
  domain: kind<{ name: string; uri: string }>('domains', async (r) =>
    (await run('virsh', ['-q', '-c', r.uri, 'destroy', r.name])).code === 0 ? 'vms' : null),
  // QEMU and node shells lead their own process groups: take their children too.
  /** a QEMU process (own process group) */
  vm: kind<{ name: string; proc: ProcessId }>('processes', async (r, sweep) => sweep.kill(r.proc, true, 'vms')),
  /** a Mininet node shell (kill its group) */
  shell: kind<{ name: string; proc: ProcessId }>('processes', async (r, sweep) => sweep.kill(r.proc, true, 'shells')),
  /** e.g. the bridged Python, a file server */
  process: kind<{ name: string; proc: ProcessId }>('processes', async (r, sweep) => sweep.kill(r.proc, false, 'processes')),
  /** a process started for a host (ssh for popen, a terminal) */
  popen: kind<{ name: string; proc: ProcessId }>('processes', async (r, sweep) => sweep.kill(r.proc, false, 'processes')),
  /** how to put back a device's state the run changes (an SR-IOV VF) */
  restore: kind<{ what: string; steps: RestoreStep[] }>('devices', async (r, sweep) =>
    (await putBack(r.steps, sweep.claims)) ? 'devices' : null),
  /** ... put back already (RunRecord.restoreNow): the sweep skips its restore (see pendingRestores) */
  restored: kind<{ what: string }>('devices', async () => null),
  /** a root-namespace interface (claimed) */
  intf: kind<{ name: string }>('links', (r, sweep) => sweep.deleteLink(r.name, 'intfs')),
  /** a Linux bridge (switch) (claimed) */
  bridge: kind<{ name: string }>('links', (r, sweep) => sweep.deleteLink(r.name, 'bridges')),
  /** an Open vSwitch bridge (switch) (claimed) */
  ovsbr: kind<{ name: string }>('ovs', async (r, sweep) => {
    if (!sweep.claims.holds('link', r.name) || !(await sweep.ovsBridges()).has(r.name)) return null;
    await run('ovs-vsctl', ['--if-exists', 'del-br', r.name]);
    return 'bridges';
  }),
  /** CPULimitedHost's cpu,cpuacct,cpuset group /NAME (claimed) */
  cgroup: kind<{ name: string }>('cgroups', async (r, sweep) => {
    if (!sweep.claims.holds('cgroup', r.name)) return null;
    // Each controller's group is removed on its own: cgdelete -r
    // cpu,cpuacct,cpuset:/NAME (as Mininet runs it) removes only the first
    // where each has a hierarchy of its own.
    const dirs = cgroupDirs(r.name).filter((d) => existsSync(d));
    for (const d of dirs) await removeCgroup(d);
    return dirs.length ? 'cgroups' : null;
  }),
  /** a name this run claimed (see RunRecord.claim) */
  claim: kind<{ of: NameKind; name: string }>('claims', async (r, sweep) => {
    sweep.claims.release(r.of, r.name);
    return null;
  }),
  /** an iptables rule, as added (-A/-I), e.g. by mn --nat */
  rule: kind<{ args: string[] }>('rules', async (r) =>
    (await run('iptables', r.args.map((a) => (a === '-A' || a === '-I' ? '-D' : a)))).code === 0 ? 'rules' : null),
  /** a kernel setting's value before the run changed it */
  sysctl: kind<{ key: string; value: string }>('settings', async (r) => {
    await run('sysctl', ['-qw', `${r.key}=${r.value}`]);
    return null;
  }),
  /** a file or folder of the run outside its record (e.g. a testbed server's disk) */
  file: kind<{ path: string }>('settings', async (r) => {
    if (!existsSync(r.path)) return null;
    rmSync(r.path, { recursive: true, force: true });
    return 'files';
  }),
};

type Recorded = { [K in keyof typeof KINDS]: (typeof KINDS)[K] extends Kind<infer F> ? F : never };
/** A thing a record holds: one line of its log (JSON). */
export type Resource = { [K in keyof Recorded]: { kind: K } & Recorded[K] }[keyof Recorded];

/** The kinds, each seen with its own fields (what lets remove() pass a thing to its kind's remover). */
const BY_KIND: { [K in keyof Recorded]: Kind<Recorded[K]> } = KINDS;

function remove<K extends keyof Recorded>(r: { kind: K } & Recorded[K], sweep: Sweep): Promise<Count | null> {
  return BY_KIND[r.kind].remove(r, sweep);
}

/**
 * Remove what a run recorded (all, in the order recorded) that still exists
 * and the run made, step by step; claims are those of the run whose record
 * folder this is.
 */
export async function sweepResources(claims: Claims, all: Resource[]): Promise<SweepReport> {
  const report = Object.fromEntries(Object.keys(COUNTS).map((c) => [c, 0])) as SweepReport;
  const sweep = new Sweep(claims);
  const pending = new Set<Resource>(pendingRestores(all));
  const todo = all.filter((r) => r.kind !== 'restore' || pending.has(r));
  for (const [step, { reverse, done }] of Object.entries(STEPS)) {
    const now = todo.filter((r) => KINDS[r.kind].step === step);
    for (const r of reverse ? now.reverse() : now) {
      const counted = await remove(r, sweep);
      if (counted) report[counted]++;
    }
    await done?.(sweep);
  }
  return report;
}

/** One sweep of a run's record: what its steps share. */
class Sweep {
  private readonly stopping: ProcessId[] = [];
  private links: Set<string> | null = null;
  private readonly linkDels: string[] = [];
  private ovs: Set<string> | null = null;

  constructor(readonly claims: Claims) {}

  /** SIGKILL a recorded process (its group: its children too) if it is still the one recorded. */
  kill(proc: ProcessId, group: boolean, count: Count): Count | null {
    this.stopping.push(proc);
    return killIfSame(proc, 'SIGKILL', group) ? count : null;
  }

  async waitStopped(): Promise<void> {
    for (const proc of this.stopping) await waitGone(proc, 3000);
  }

  /** Delete an interface or bridge this run holds, if it exists: all at once, by deleteLinks(). */
  async deleteLink(name: string, count: Count): Promise<Count | null> {
    if (!this.claims.holds('link', name)) return null;
    this.links ??= new Set((await run('ip', ['-o', 'link', 'show'])).stdout
      .split('\n').map((l) => l.split(': ')[1]?.split('@')[0]).filter(Boolean));
    if (!this.links.has(name)) return null;
    this.linkDels.push(`link del ${name}`);
    this.links.delete(name);
    return count;
  }

  async deleteLinks(): Promise<void> {
    // -force: go on past an interface that vanished with its peer meanwhile.
    if (this.linkDels.length) await run('ip', ['-force', '-batch', '-'], this.linkDels.join('\n') + '\n');
  }

  async ovsBridges(): Promise<Set<string>> {
    this.ovs ??= new Set((await run('ovs-vsctl', ['list-br'])).stdout.split('\n'));
    return this.ovs;
  }
}

/** The restore entries not yet done (a later 'restored' of the same thing), in the order recorded. */
export function pendingRestores(all: Resource[]): Extract<Resource, { kind: 'restore' }>[] {
  const pending = new Map<string, Extract<Resource, { kind: 'restore' }>>();
  for (const r of all) {
    if (r.kind === 'restore') pending.set(r.what, r);
    if (r.kind === 'restored') pending.delete(r.what);
  }
  return [...pending.values()];
}

/** Take restore steps in order, each whatever the last did; true if any changed something. */
export async function putBack(steps: RestoreStep[], claims: Claims): Promise<boolean> {
  let changed = false;
  for (const step of steps) {
    if ('run' in step) {
      changed = (await run(step.run[0], step.run.slice(1))).code === 0 || changed;
      continue;
    }
    if (step.unlessHeld && claims.heldByOthers(step.unlessHeld.of, step.unlessHeld.prefix)) continue;
    try {
      writeFileSync(step.write, step.value);
      changed = true;
    } catch {
      // gone, or the value is already in place (a driver refuses an unbind it is not bound to)
    }
  }
  return changed;
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

/** "2 VMs, 1 bridge", or "" when nothing was left. */
export function describeSweep(r: SweepReport): string {
  return (Object.keys(COUNTS) as Count[])
    .filter((k) => r[k] > 0).map((k) => `${r[k]} ${COUNTS[k][r[k] === 1 ? 0 : 1]}`).join(', ');
}
