// The engine: VM lifecycle for the Python side (KVMHost calls these methods
// through the bridge, synchronously from Python's point of view) and the
// run's resource record. Arguments and results are plain strings and numbers.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MnkvmError } from './errors.js';
import { KVM_HOST_OPTION_NAMES, kvmHostOptions, type KvmHostOptions } from './options.js';
import { loadImage, type GuestImage } from './image.js';
import { processId, startTime } from './proc.js';
import { resolveAccel, tcgNotice, type AccelChoice } from './accel.js';
import { MGMT, QemuVm, type VmSpec } from './qemu.js';
import { ensureTemplate, templateFor, type Template } from './template.js';
import { RunRecord, type NameKind, type SweepReport } from './records.js';


/** A line for the user, at a Mininet log level. */
interface Notice { level: 'info' | 'warn'; line: string }

/** A KVM host's VM: starting (vm), then changes to it (NICs), in order (ops). */
interface HostVm { vm: Promise<QemuVm>; ops: Promise<void>; running: QemuVm | null }

/** At most this many guests start at once (restore or boot): one per core. */
const STARTS_AT_ONCE = Math.max(1, availableParallelism());

export class Engine {
  readonly record: RunRecord;
  private readonly hosts = new Map<string, HostVm>();
  private readonly images = new Map<string, GuestImage>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly said = new Set<string>();
  private readonly templates = new Map<string, Promise<Template | null>>();
  private readonly starting = new Slots(STARTS_AT_ONCE);

  /** Lines for the user; the Python side prints them through Mininet's log at their level. */
  private notices: Notice[] = [];

  constructor(record = RunRecord.create()) {
    this.record = record;
  }

  /** Say a line once per run: 'info' for how things are (-v output hides it), 'warn' for what works less well than asked. */
  notice(line: string, level: Notice['level'] = 'info'): void {
    if (this.said.has(line)) return;
    this.said.add(line);
    this.notices.push({ level, line });
  }

  /** The lines said since the last call. */
  private takeNotices(): Notice[] {
    const lines = this.notices;
    this.notices = [];
    return lines;
  }

  image(name: string): GuestImage {
    let image = this.images.get(name);
    if (!image) this.images.set(name, (image = loadImage(name)));
    return image;
  }

  // ---- called from Python (mininet-ext/mnkvm) ----

  /**
   * Start the VM of host `name` inside the namespace of nsPid, in the
   * background: the network build goes on while guests start (at most one
   * per core at once). vmReady() waits for it; a failure is reported there,
   * by host name.
   */
  startVm(name: string, nsPid: number, optionsJson: string): string {
    if (this.hosts.has(name)) throw new MnkvmError(`a KVM host named ${name} already exists`);
    const { boot, accel: choice, cores: _pinnedByPython, ...vmOptions } = JSON.parse(optionsJson) as KvmHostOptions;
    const accel = resolveAccel(choice);
    if (accel === 'tcg') this.notice(tcgNotice(choice));
    const spec = { ...vmOptions, accel, name, nsPid, dir: join(this.record.dir, 'vm', name), image: this.image(vmOptions.image) };
    const vm = this.track(() => this.bringUp(spec, boot));
    const host: HostVm = { vm, ops: vm.then(() => undefined), running: null };
    host.ops.catch(() => undefined);   // a failure is vmReady's to report
    void vm.then((v) => { host.running = v; }, () => undefined);
    this.hosts.set(name, host);
    return JSON.stringify(this.takeNotices());
  }

  /** The names of the KVM host options (KVMHost takes these out of its keyword arguments). */
  kvmHostOptionNames(): string {
    return JSON.stringify(KVM_HOST_OPTION_NAMES);
  }

  /** A KVM host's options (JSON) from those given (JSON), checked by the one definition (options.ts); one line for a bad one. */
  kvmHostOptions(givenJson: string): string {
    return JSON.stringify(kvmHostOptions(JSON.parse(givenJson) as Record<string, unknown>));
  }

  /**
   * Wait until host name's guest runs with its identity (hostname, clock,
   * fresh randomness, shared folder) and its NICs attached so far are named;
   * returns JSON: console socket, SSH, pid, whether it was restored.
   */
  async vmReady(name: string): Promise<string> {
    const host = this.host(name);
    const vm = await host.vm;
    await host.ops;
    return JSON.stringify({
      console: vm.consolePath, accel: vm.spec.accel, pid: vm.proc.pid, restored: vm.spec.boot.kind === 'clone',
      ssh: { key: vm.spec.image.sshKey, target: `root@${MGMT.guest}` }, notices: this.takeNotices(),
    });
  }

  /** Launch (a clone, or a cold boot), let it run, then give the guest its identity. */
  private async bringUp(spec: Omit<VmSpec, 'boot'>, boot: KvmHostOptions['boot']): Promise<QemuVm> {
    await this.starting.acquire();
    try {
      const template = boot === 'clone' ? await this.template(spec) : null;
      const vm = await QemuVm.start(template ? { ...spec, boot: template.boot } : { ...spec, boot: { kind: 'cold' } }, this.record);
      try {
        await vm.resume();
        if (!template && !(await vm.waitReady(spec.bootTimeout * 1000))) {
          throw new Error(vm.alive() ? `did not reach its shell within ${spec.bootTimeout} s` : 'stopped while booting');
        }
        await vm.agent(`identity ${spec.name} ${BigInt(Date.now()) * 1_000_000n} ${randomBytes(32).toString('hex')}`);
        if (spec.share && !template) await vm.agent(`mount ${spec.share}`);   // a clone's is mounted in its template
      } catch (e) {
        const lines = vm.diagnostics().join('\n') || '(none)';
        await vm.stop();
        throw new MnkvmError(`${spec.name}: guest ${(e as Error).message}; last console lines:\n${lines}`);
      }
      return vm;
    } finally {
      this.starting.release();
    }
  }

  /** The snapshot template for spec, made once per run and key; null (with one notice) where snapshots cannot work. */
  private async template(spec: Omit<VmSpec, 'boot'>): Promise<Template | null> {
    const id = templateFor(spec.image, spec);
    let template = this.templates.get(id);
    if (!template) {
      template = ensureTemplate(spec.image, spec, this.record).catch((e: Error) => {
        this.notice(`*** mnkvm: snapshot clones unavailable (${e.message.split('\n')[0]}): KVM hosts boot cold`, 'warn');
        return null;
      });
      this.templates.set(id, template);
    }
    return template;
  }

  /** Give host name a NIC for interface intf, named and addressed as intf in the guest: in the background, after what the host has under way (vmReady waits). */
  attachNic(name: string, intf: string): void {
    this.queue(name, async (vm) => {
      const { guestMac, mac } = await vm.attachNic(intf);
      await vm.agent(`nic ${guestMac} ${intf} ${mac}`).catch((e: Error) => { throw new MnkvmError(`${name}: ${e.message}`); });
    });
  }

  /** Take intf's NIC from host name: the guest lets go of it (its name is free at once), then QEMU unplugs it. */
  detachNic(name: string, intf: string): void {
    this.queue(name, async (vm) => {
      try {
        await vm.agent(`unplug ${intf}`);
      } finally {
        await vm.detachNic(intf);
      }
    });
  }

  /** Stop the VM of host name, without waiting for it: hosts stop in parallel, shutdown() waits for them all. */
  stopVm(name: string): void {
    const host = this.hosts.get(name);
    if (!host) return;
    this.hosts.delete(name);
    host.ops.catch(() => undefined);
    void this.track(async () => (await host.vm.catch(() => null))?.stop());
  }

  /** Why a guest is not answering: its last console lines, and whether QEMU is still running. */
  vmDiagnostics(name: string): string {
    const vm = this.hosts.get(name)?.running;
    if (!vm) return '';
    return vm.diagnostics().join('\n');
  }

  /** Record a Mininet node's shell (its process group holds everything it started). */
  recordShell(name: string, pid: number): void {
    this.record.add({ kind: 'shell', name, proc: processId(pid) });
  }

  recordProcess(name: string, pid: number): void {
    this.record.add({ kind: 'process', name, proc: processId(pid) });
  }

  /**
   * Claim names of the root namespace (interfaces, bridges) or cgroups before
   * anything is made with them (a network's names, all at once): a clash
   * with another run, or with something that is not mnkvm's, is one line.
   */
  claimNames(kind: NameKind, namesJson: string): void {
    for (const name of JSON.parse(namesJson) as string[]) this.record.claim(kind, name);
  }

  /** Claim and record a root-namespace interface about to be made. */
  recordIntf(name: string): void {
    this.record.claim('link', name);
    this.record.add({ kind: 'intf', name });
  }

  /** The interface was not made after all: its name is not this run's to remove. */
  releaseIntf(name: string): void {
    this.record.release('link', name);
  }

  recordBridge(name: string): void {
    this.record.claim('link', name);
    this.record.add({ kind: 'bridge', name });
  }

  recordOvsBridge(name: string): void {
    this.record.claim('link', name);
    this.record.add({ kind: 'ovsbr', name });
  }

  /** Claim and record the cgroups CPULimitedHost name makes. */
  recordCgroup(name: string): void {
    this.record.claim('cgroup', name);
    this.record.add({ kind: 'cgroup', name });
  }

  /** Record a process started on this machine for host name (ssh for popen, a terminal): it ends with the run. */
  recordHostProcess(name: string, pid: number): void {
    const proc = startTime(pid);
    if (proc !== null) this.record.add({ kind: 'popen', name, proc: { pid, start: proc } });   // (else it has ended already)
  }

  /** Record an iptables rule about to be added (its arguments, as JSON). */
  recordRule(argsJson: string): void {
    this.record.add({ kind: 'rule', args: JSON.parse(argsJson) as string[] });
  }

  /** Record a kernel setting's value before the run changes it. */
  recordSysctl(key: string, value: string): void {
    this.record.add({ kind: 'sysctl', key, value });
  }

  // ---- called from TypeScript ----

  /** Wait (at most 20 s) for operations still under way, e.g. after Python was interrupted mid-call. */
  async settle(): Promise<void> {
    const pending = [...this.inflight];
    await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, 20_000))]);
  }

  /** Settle, then remove whatever the run left. */
  async shutdown(): Promise<SweepReport> {
    await this.settle();
    this.hosts.clear();
    return this.record.sweep();
  }

  private host(name: string): HostVm {
    const host = this.hosts.get(name);
    if (!host) throw new MnkvmError(`no KVM host named ${name}`);
    return host;
  }

  /** Run op on host name's VM once what the host has under way is done. */
  // (not `then`: an object with a then method is a thenable, and awaiting it would call it)
  private queue(name: string, op: (vm: QemuVm) => Promise<void>): void {
    const host = this.host(name);
    host.ops = this.track(() => host.ops.then(async () => op(await host.vm)));
  }

  private track<T>(op: () => Promise<T>): Promise<T> {
    const p = op();
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }
}

/** A counting semaphore: at most `size` holders at once, the others wait in order. */
class Slots {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
