// The resource log: every process, interface and bridge a run creates is
// appended here as it is created, so that a run can always be undone: on
// normal exit, on error, on a signal, or later by `mnkvm -c` after SIGKILL.
// Processes are named by (pid, start time) and never looked up by name.
// Names are global: a run claims a name before it makes the thing, and
// removes only what it holds the claim of (claims.ts). What a record holds,
// and how the sweep removes each kind: sweep.ts.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Claims, type NameKind } from './claims.js';
import { ownerAlive, writeOwner } from './owner.js';
import { RUN_ROOT } from './paths.js';
import { startTime } from './proc.js';
import { pendingRestores, putBack, sweepResources, type Resource, type SweepReport } from './sweep.js';

/** The guard's sweep (guard.ts, compiled next to this file). */
const GUARD = new URL('./guard.js', import.meta.url).pathname;

export class RunRecord {
  readonly dir: string;
  private readonly log: string;
  private readonly claims: Claims;

  private constructor(dir: string) {
    this.dir = dir;
    this.log = join(dir, 'resources.jsonl');
    this.claims = new Claims(dir);
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
    const dir = join(RUN_ROOT, name);
    mkdirSync(dir, { recursive: true });
    writeOwner(dir);
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

  ownerAlive(): boolean {
    return ownerAlive(this.dir);
  }

  add(resource: Resource): void {
    appendFileSync(this.log, JSON.stringify(resource) + '\n');
  }

  /**
   * Claim a global name before making the thing it names, recorded before
   * it is taken (see Claims.take: one line naming who has it where it is
   * taken). Claiming a name twice is fine.
   */
  claim(kind: NameKind, name: string): void {
    if (this.holds(kind, name)) return;
    this.add({ kind: 'claim', of: kind, name });
    this.claims.take(kind, name);
  }

  /** Give a claim back (the thing was not made after all): the sweep then leaves that name alone. */
  release(kind: NameKind, name: string): void {
    this.claims.release(kind, name);
  }

  /** Another live run that holds the claim of a name (as messages name it), or null. */
  heldBy(kind: NameKind, name: string): string | null {
    return this.claims.heldBy(kind, name);
  }

  /** Does this run hold the claim of the name? Only then may it remove what the name names. */
  holds(kind: NameKind, name: string): boolean {
    return this.claims.holds(kind, name);
  }

  resources(): Resource[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Resource);
  }

  /** Put back what now (e.g. a VF a link gives back), as the sweep would, once. */
  async restoreNow(what: string): Promise<void> {
    const pending = pendingRestores(this.resources().filter((r) => 'what' in r && r.what === what))[0];
    if (!pending) return;
    await putBack(pending.steps, this.claims);
    this.add({ kind: 'restored', what });
  }

  /** Remove everything recorded that still exists and this run made (see claim), then the record itself. */
  async sweep(): Promise<SweepReport> {
    const report = await sweepResources(this.claims, this.resources());
    rmSync(this.dir, { recursive: true, force: true });
    return report;
  }
}
