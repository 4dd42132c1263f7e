// The resource log: every process, interface and bridge a run creates is
// appended here as it is created, so that a run can always be undone: on
// normal exit, on error, on a signal, or later by `mnkvm -c` after SIGKILL.
// Processes are named by (pid, start time) and never looked up by name.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, killIfSame, processId, run, waitGone, type ProcessId } from './proc.js';
import { RUN_ROOT } from './paths.js';

export type Resource =
  | { kind: 'vm'; name: string; proc: ProcessId }        // a QEMU process (own process group)
  | { kind: 'shell'; name: string; proc: ProcessId }     // a Mininet node shell (kill its group)
  | { kind: 'process'; name: string; proc: ProcessId }   // e.g. the bridged Python
  | { kind: 'intf'; name: string }                       // a root-namespace interface
  | { kind: 'bridge'; name: string }                     // a Linux bridge (switch)
  | { kind: 'ovsbr'; name: string }                      // an Open vSwitch bridge (switch)
  | { kind: 'rule'; args: string[] }                     // an iptables rule, as added (-A/-I), e.g. by mn --nat
  | { kind: 'sysctl'; key: string; value: string };      // a kernel setting's value before the run changed it

export interface SweepReport { vms: number; shells: number; processes: number; intfs: number; bridges: number; rules: number }

export class RunRecord {
  readonly dir: string;
  private readonly log: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.log = join(dir, 'resources.jsonl');
  }

  /** Open a new record for this process. */
  static create(): RunRecord {
    const owner = processId(process.pid);
    const dir = join(RUN_ROOT, `run-${owner.pid}-${owner.start}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ ...owner, argv: process.argv }) + '\n');
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

  ownerAlive(): boolean {
    try {
      return isAlive(JSON.parse(readFileSync(join(this.dir, 'owner.json'), 'utf8')) as ProcessId);
    } catch {
      return false;
    }
  }

  add(resource: Resource): void {
    appendFileSync(this.log, JSON.stringify(resource) + '\n');
  }

  resources(): Resource[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Resource);
  }

  /** Remove everything recorded that still exists, then the record itself. */
  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { vms: 0, shells: 0, processes: 0, intfs: 0, bridges: 0, rules: 0 };
    const all = this.resources();
    const procs = all.filter((r): r is Extract<Resource, { proc: ProcessId }> => 'proc' in r);
    for (const r of procs) {
      // QEMU and node shells lead their own process groups: take their children too.
      if (killIfSame(r.proc, 'SIGKILL', r.kind !== 'process')) {
        report[r.kind === 'vm' ? 'vms' : r.kind === 'shell' ? 'shells' : 'processes']++;
      }
    }
    for (const r of procs) await waitGone(r.proc, 3000);
    const links = new Set((await run('ip', ['-o', 'link', 'show'])).stdout
      .split('\n').map((l) => l.split(': ')[1]?.split('@')[0]).filter(Boolean));
    const dels: string[] = [];
    for (const r of all) {
      if ((r.kind === 'intf' || r.kind === 'bridge') && links.has(r.name)) {
        dels.push(`link del ${r.name}`);
        links.delete(r.name);
        report[r.kind === 'intf' ? 'intfs' : 'bridges']++;
      }
    }
    // -force: go on past an interface that vanished with its peer meanwhile.
    if (dels.length) await run('ip', ['-force', '-batch', '-'], dels.join('\n') + '\n');
    const ovs = all.filter((r) => r.kind === 'ovsbr').map((r) => r.name);
    if (ovs.length) {
      const out = await run('ovs-vsctl', ['list-br']);
      const existing = new Set(out.stdout.split('\n'));
      for (const br of ovs.filter((b) => existing.has(b))) {
        await run('ovs-vsctl', ['--if-exists', 'del-br', br]);
        report.bridges++;
      }
    }
    // Rules still there (a run that ended normally deleted its own: -D fails), then settings put back.
    for (const r of all) {
      if (r.kind !== 'rule') continue;
      if ((await run('iptables', r.args.map((a) => (a === '-A' || a === '-I' ? '-D' : a)))).code === 0) report.rules++;
    }
    for (const r of all) {
      if (r.kind === 'sysctl') await run('sysctl', ['-qw', `${r.key}=${r.value}`]);
    }
    rmSync(this.dir, { recursive: true, force: true });
    return report;
  }
}

const NOUNS: Record<keyof SweepReport, [string, string]> = {
  vms: ['VM', 'VMs'], shells: ['shell', 'shells'], processes: ['process', 'processes'],
  intfs: ['interface', 'interfaces'], bridges: ['bridge', 'bridges'], rules: ['iptables rule', 'iptables rules'],
};

/** "2 VMs, 1 bridge", or "" when nothing was left. */
export function describe(r: SweepReport): string {
  return (Object.keys(NOUNS) as (keyof SweepReport)[])
    .filter((k) => r[k] > 0).map((k) => `${r[k]} ${NOUNS[k][r[k] === 1 ? 0 : 1]}`).join(', ');
}

