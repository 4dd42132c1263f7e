// Claims of global names. Names are global (an interface of the root
// namespace, a bridge, a cgroup, a VF, a VLAN): a run claims a name before
// it makes the thing (one file per name in RUN_ROOT/claims, made
// atomically, holding the name of the run's record folder), and removes only
// what it holds the claim of, so that a run that clashes with another never
// removes the other's network.
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MnkvmError } from './errors.js';
import { describeOwner, ownerAlive, ownerOf } from './owner.js';
import { RUN_ROOT } from './paths.js';

/**
 * What a claimed name stands for: an interface or bridge of the root
 * namespace, a cgroup, an SR-IOV VF (its PCI address) or a VLAN of a PF
 * (PF:ID, or emulated:ID), or a core dedicated to a tuned KVM host's vCPU.
 */
export type NameKind = 'link' | 'cgroup' | 'vf' | 'vlan' | 'core';

/**
 * Each kind of name: its noun in messages; whether the run makes the thing
 * (then it must not exist before the claim: a VF or a VLAN exists by
 * nature, holding its claim is what counts); and whether the thing exists
 * now, in a state only `mnkvm -c` puts right (this process is in the root
 * network namespace; a VF always exists: its run's sweep gives it back; a
 * VLAN is only a number).
 */
const NAME_KINDS: Record<NameKind, { noun: string; made: boolean; exists: (name: string) => boolean }> = {
  link: { noun: 'interface', made: true, exists: (name) => existsSync(join('/sys/class/net', name)) },
  cgroup: { noun: 'cgroup', made: true, exists: (name) => cgroupDirs(name).some((d) => existsSync(d)) },
  vf: { noun: 'VF', made: false, exists: (pci) => existsSync(join('/sys/bus/pci/devices', pci)) },
  vlan: { noun: 'VLAN', made: false, exists: () => false },
  core: { noun: 'core', made: false, exists: () => false },
};

const CLAIMS = join(RUN_ROOT, 'claims');
const CGROUP_ROOT = '/sys/fs/cgroup';
/** The groups Mininet's CPULimitedHost makes (cgcreate -g cpu,cpuacct,cpuset:/NAME). */
export const CGROUP_CONTROLLERS = 'cpu,cpuacct,cpuset';

/** The claims of one run: the run whose record is the folder dir. */
export class Claims {
  private readonly run: string;

  constructor(private readonly dir: string) {
    this.run = basename(dir);
  }

  /**
   * Take the claim of a global name (see RunRecord.claim, which records it
   * first): one line naming who has it where it is taken (another run, a
   * run that ended and left it, or something that is not mnkvm's).
   */
  take(kind: NameKind, name: string): void {
    mkdirSync(CLAIMS, { recursive: true });
    const path = claimPath(kind, name);
    const what = `${NAME_KINDS[kind].noun} ${name}`;
    // The claim appears whole (a hard link to a file already written: this
    // run's name), or not at all.
    const mark = join(this.dir, 'claim');
    if (!existsSync(mark)) writeFileSync(mark, this.run);
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
      if (holder === this.run) return;
      if (holder === null) continue;   // given back this moment
      const other = join(RUN_ROOT, holder);
      if (ownerAlive(other)) {
        throw new MnkvmError(`${what} is in use by another mnkvm run (${describeOwner(other)}): stop that run first, or use other names`,
          'clash', { name, holder: 'run', pid: ownerOf(other)?.pid ?? null });
      }
      if (NAME_KINDS[kind].exists(name)) {
        throw new MnkvmError(`${what} was left by an mnkvm run that has ended (${describeOwner(other)}): remove it with \`mnkvm -c\``,
          'clash', { name, holder: 'ended run' });
      }
      rmSync(path, { force: true });   // a stale claim of an ended run whose thing is gone
    }
    if (NAME_KINDS[kind].made && NAME_KINDS[kind].exists(name)) {
      rmSync(path, { force: true });
      throw new MnkvmError(`${what} already exists on this machine and is not mnkvm's: remove it, or use other names`,
        'clash', { name, holder: 'machine' });
    }
  }

  /** Give a claim back: the sweep then leaves that name alone. */
  release(kind: NameKind, name: string): void {
    if (this.holds(kind, name)) rmSync(claimPath(kind, name), { force: true });
  }

  /** Does this run hold the claim of the name? Only then may it remove what the name names. */
  holds(kind: NameKind, name: string): boolean {
    return readClaim(claimPath(kind, name)) === this.run;
  }

  /** The run that holds the claim of a name, where another run whose owner lives does (as messages name it), else null. */
  heldBy(kind: NameKind, name: string): string | null {
    const holder = readClaim(claimPath(kind, name));
    if (holder === null || holder === this.run) return null;
    const other = join(RUN_ROOT, holder);
    return ownerAlive(other) ? describeOwner(other) : null;
  }

  /** Does another run whose owner lives hold a claim of kind whose name starts with prefix? */
  heldByOthers(kind: NameKind, prefix: string): boolean {
    if (!existsSync(CLAIMS)) return false;
    return readdirSync(CLAIMS).filter((c) => c.startsWith(`${kind}-${prefix}`)).some((c) => {
      const holder = readClaim(join(CLAIMS, c));
      return holder !== null && holder !== this.run && ownerAlive(join(RUN_ROOT, holder));
    });
  }

  /** `mnkvm -c`: drop claims whose run left no record (its folder was removed by hand): nobody can prove they made the thing. */
  static dropStray(): string[] {
    if (!existsSync(CLAIMS)) return [];
    const stray = readdirSync(CLAIMS).filter((c) => {
      const holder = readClaim(join(CLAIMS, c));
      return holder !== null && !existsSync(join(RUN_ROOT, holder));
    });
    for (const c of stray) rmSync(join(CLAIMS, c), { force: true });
    return stray;
  }

  /** Remove the claims folder if no run holds a claim: nothing is left in RUN_ROOT after the last run. */
  static dropFolder(): void {
    try {
      rmdirSync(CLAIMS);
    } catch {
      // claims of other runs
    }
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

/** Where a cgroup NAME of CPULimitedHost's controllers lives: one folder per v1 hierarchy, or v2's one tree. */
export function cgroupDirs(name: string): string[] {
  return [...CGROUP_CONTROLLERS.split(','), ''].map((c) => join(CGROUP_ROOT, c, name));
}
