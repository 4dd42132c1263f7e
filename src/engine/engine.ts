// The engine: KVM hosts' guests for the Python side (KVMHost calls it
// through the bridge, synchronously from Python's point of view: calls.ts
// lists the calls) and the run's resource record. What runs a guest is a
// backend's (backend.ts); the engine starts guests in parallel, gives them
// their identity, orders each host's NIC changes and reports failures by
// host name.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { bootTimedOut, guestFailed, guestFailure, type Guest, type GuestSpec, type NicAttachment, type Notice, type VmBackend } from './backend.js';
import { isEngineCall, type Answer, type EngineCalls, type Servers, type ServersAnswer, type VmInfo } from './calls.js';
import { MnkvmError } from './errors.js';
import { MAX_NICS, noFreeSlot } from './guest/contract.js';
import { bridgeNetfilterNotice } from './netfilter.js';
import { containerImage, loadImage, loadImageOn, type ContainerImage, type GuestImage } from './image.js';
import { LocalMachine, type Machine } from './machine.js';
import type { FabricFactory, LinkFabric, ServersFabric, SriovEnd, SriovLinkMade } from './links.js';
import { KVM_HOST_OPTION_NAMES, kvmHostOptions, LEAST_MEM, SRIOV_LINK_OPTION_NAMES, sriovLinkOptions, SYSTEM_LIBVIRT, type KvmHostOptions, type SriovLinkOptions } from './options.js';
import { processId, startTime } from './proc.js';
import { BackendByOption } from './backends.js';
import type { NameKind } from './claims.js';
import { RunRecord } from './records.js';
import type { SweepReport } from './sweep.js';
import { guestSshArgs } from './ssh.js';
import { formatCpuList } from './tune/cpus.js';
import { pinRunProcesses, planLatency, readCpuFacts, steerVfIrqs, type LatencyLayout } from './tune/layout.js';
import type { EngineProgress, ProgressListener } from './progress.js';

/**
 * A KVM host's guest: starting (guest), then changes to it (NICs), in order
 * (ops, which never rejects); a change that failed waits in failed for the
 * next vmReady to report it, once: the changes after it still run.
 */
interface HostVm { guest: Promise<Guest>; ops: Promise<void>; failed: Error[]; running: Guest | null; layout: LatencyLayout | null }

/** A backend for a run: it records what it makes in the run's record, says lines for the user through notice, and reports its long work through progress. */
export type BackendFactory = (record: RunRecord, notice: (line: string, level?: Notice['level']) => void, progress: ProgressListener) => VmBackend;

/** What makes SR-IOV links between the run's servers (src/sriov/across.ts), made once the run has servers. */
export type ServersFabricFactory = (servers: Servers) => ServersFabric;

/** At most this many guests start at once (restore or boot): one per core. */
const STARTS_AT_ONCE = Math.max(1, availableParallelism());

export class Engine implements EngineCalls {
  readonly record: RunRecord;
  readonly backend: VmBackend;
  private readonly fabric: LinkFabric | null;
  /** What makes SR-IOV links on the run's servers, once one is made. */
  private serversFabric: ServersFabric | null = null;
  /** Each SR-IOV link's KVM hosts (its VFs go back once they have let go) and the fabric that made it. */
  private readonly sriovLinks = new Map<string, { hosts: string[]; fabric: ServersFabric }>();
  /** Hosts being stopped (a link's VFs wait for them). */
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly hosts = new Map<string, HostVm>();
  private readonly images = new Map<string, GuestImage>();
  /** Images as servers have them, by server and name. */
  private readonly serverImages = new Map<string, Promise<GuestImage>>();
  /** This machine, for guests that run here. */
  private readonly here: Machine;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly said = new Set<string>();
  private readonly starting = new Slots(STARTS_AT_ONCE);
  /** Hugepages that tuned hosts of this run are given and have not taken yet (their QEMU allocates them as it starts). */
  private hugepagesPlanned = 0;
  /** The cores this run has dedicated to its tuned hosts' vCPUs, and to which host. */
  private readonly dedicated = new Map<number, string>();

  /** Lines for the user; the Python side prints them through Mininet's log at their level. */
  private notices: Notice[] = [];

  /** The servers the run spreads over (--servers), set before Python starts; null: this machine alone. */
  cluster: Servers | null = null;

  /** Takes the engine's progress (the TypeScript API's progress events); null: nobody listens. */
  onProgress: ProgressListener | null = null;
  /** KVM hosts' guests started and up in this run: hosts booting N of M. */
  private guestsStarted = 0;
  private guestsUp = 0;

  /**
   * makeBackend: what runs the guests (the backend each host's options name,
   * unless given); makeFabric, makeServersFabric: what makes SR-IOV links
   * here and on servers (none unless given).
   */
  constructor(record = RunRecord.create(), makeBackend: BackendFactory = (r, notice, progress) => new BackendByOption(r, notice, progress),
    makeFabric: FabricFactory | null = null, private readonly makeServersFabric: ServersFabricFactory | null = null) {
    this.record = record;
    this.here = new LocalMachine(record);
    this.backend = makeBackend(record, (line, level) => this.notice(line, level), (event) => this.progress(event));
    this.fabric = makeFabric ? makeFabric(record, (line, level) => this.notice(line, level)) : null;
  }

  /** Say a line once per run. */
  notice(line: string, level: Notice['level'] = 'info'): void {
    if (this.said.has(line)) return;
    this.said.add(line);
    this.notices.push({ level, line });
  }

  /** Report progress to whoever listens. */
  progress(event: EngineProgress): void {
    this.onProgress?.(event);
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

  /** The bridge's one entry: a call by name with JSON arguments; answers JSON, an error as a record. */
  async call(name: string, argsJson: string): Promise<string> {
    let answer: Answer;
    try {
      if (!isEngineCall(name)) throw new Error(`no engine call named ${name}`);
      const method = this[name] as (a: unknown) => unknown;
      answer = { value: (await method.call(this, JSON.parse(argsJson))) ?? null };
    } catch (e) {
      answer = { error: MnkvmError.record(e) };
    }
    return JSON.stringify(answer);
  }

  // ---- the calls (calls.ts says what each does) ----

  kvmHostOptionNames(): string[] {
    return KVM_HOST_OPTION_NAMES;
  }

  kvmHostOptions({ given }: { given: Record<string, unknown> }): KvmHostOptions {
    return kvmHostOptions(given);
  }

  kvmHostLeastMem(): number {
    return LEAST_MEM;
  }

  sriovLinkOptionNames(): string[] {
    return SRIOV_LINK_OPTION_NAMES;
  }

  sriovLinkOptions({ given }: { given: Record<string, unknown> }): SriovLinkOptions {
    return sriovLinkOptions(given);
  }

  /**
   * Make an SR-IOV link's ends (see src/sriov/fabric.ts); a KVM end's NIC
   * is attachNic's to plug. Ends on servers are made there (see
   * src/sriov/across.ts).
   */
  async makeSriovLink({ id, ends, options }: { id: string; ends: [SriovEnd, SriovEnd]; options: SriovLinkOptions }): Promise<SriovLinkMade> {
    const checked = sriovLinkOptions(options);
    const [a, b] = ends.map((e) => e.server ?? null);
    if (!a !== !b) {
      throw new MnkvmError(`SR-IOV link ${ends[0].node}-${ends[1].node}: one end on a server, the other on this machine: place both on servers (server=)`);
    }
    const fabric = a ? this.fabricOnServers(a) : this.fabric;
    if (!fabric) throw new MnkvmError('SR-IOV links need mnkvm\'s VF pool: run the script with `mnkvm run`');
    const made = await fabric.link(id, ends, checked);
    this.sriovLinks.set(id, { hosts: ends.filter((e) => e.role === 'kvm').map((e) => e.node), fabric });
    return { ...made, notices: [...made.notices, ...this.takeNotices()] };
  }

  /** What makes SR-IOV links on the run's servers (server: one of them); null: none given. */
  private fabricOnServers(server: string): ServersFabric | null {
    const servers = this.onServer(server);
    if (this.makeServersFabric) this.serversFabric ??= this.makeServersFabric(servers);
    return this.serversFabric;
  }

  /** Give back an SR-IOV link's VFs and ports (in the background, here or on its servers), once its KVM hosts have let go of its NICs or stopped. */
  removeSriovLink({ id }: { id: string }): void {
    const link = this.sriovLinks.get(id);
    this.sriovLinks.delete(id);
    void this.track(async () => {
      await Promise.all((link?.hosts ?? []).map((h) => this.hosts.get(h)?.ops ?? this.stopping.get(h)));
      await (link ? link.fabric : this.fabric)?.unlink(id);
    });
  }

  /**
   * Start the guest in the background: the network build goes on while
   * guests start (at most one per core at once). vmReady() waits for it;
   * a failure is reported there, by host name.
   */
  startVm({ name, nsPid, options, server }: { name: string; nsPid: number; options: KvmHostOptions; server?: string | null }): Notice[] {
    if (this.hosts.has(name)) throw new MnkvmError(`a KVM host named ${name} already exists`);
    // (cores: KVMHost's config() pins the whole VM, as CPULimitedHost pins its shell; with tune=latency, layOut's)
    const { image, cores: _pinnedByPython, ...rest } = options;
    if (server) checkOnServer(name, server, rest);
    const machine = server ? this.onServer(server).machine(server) : this.here;
    const local = server ? null : this.image(image);   // (a missing image here is this call's error)
    const layout = rest.tune === 'latency' ? this.layOut(name, options, server ?? null) : null;
    // (a tuned host's shell, file server and QEMU start from processes layOut has pinned: they inherit its cores)
    const guest = this.track(async () => this.bringUp({
      ...rest, name, nsPid, machine, layout, dir: join(machine.dir, 'vm', name), image: local ?? (await this.imageOn(server!, machine, image)),
    }));
    // a failure to start is vmReady's to report, every time
    const host: HostVm = { guest, ops: guest.then(() => undefined, () => undefined), failed: [], running: null, layout };
    const started = Date.now();
    void guest.then((g) => {
      host.running = g;
      this.progress({ kind: 'hostBooted', host: name, booted: ++this.guestsUp, hosts: this.guestsStarted, seconds: (Date.now() - started) / 1000 });
    }, () => undefined);
    this.hosts.set(name, host);
    this.progress({ kind: 'hostBooting', host: name, hosts: ++this.guestsStarted });
    return this.takeNotices();
  }

  async vmReady({ name }: { name: string }): Promise<VmInfo> {
    const host = this.host(name);
    const guest = await host.guest;
    await host.ops;
    const failure = host.failed.shift();
    if (failure) throw failure;
    const { console, accel, pid, restored, ssh } = guest;
    const tuned = host.layout && { housekeeping: host.layout.housekeeping, isolated: host.layout.dedicated.map((_, i) => i + 1) };
    return { console, accel, pid, restored, ssh: { ...ssh, options: guestSshArgs(ssh.key) }, tuned, notices: this.takeNotices() };
  }

  /**
   * tune=latency (tune.ts): the host's layout on this machine, its dedicated
   * cores claimed for the run (a core another run holds is one line).
   */
  private layOut(name: string, { cpus, mem, cores }: KvmHostOptions, server: string | null): LatencyLayout {
    if (server) {
      throw new MnkvmError(`${name}: tune=latency on a server of --servers is not there yet (its cores and hugepages are claimed where it runs): run mnkvm on ${server} itself`);
    }
    const taken = (core: number) => {
      const host = this.dedicated.get(core);
      return host ? `${host} of this run` : this.record.heldBy('core', String(core));
    };
    const { layout, warnings } = planLatency({ name, cpus, mem, cores }, readCpuFacts(), taken, this.hugepagesPlanned);
    for (const core of layout.dedicated) {
      this.record.claim('core', String(core));
      this.dedicated.set(core, name);
    }
    // mnkvm's own processes, and what they start from here on, off the dedicated cores
    pinRunProcesses(layout.housekeeping);
    this.hugepagesPlanned += layout.hugepages;
    for (const line of warnings) this.notice(line, 'warn');
    this.notice(`*** ${name}: tune=latency: vCPU${layout.dedicated.length > 1 ? 's' : ''} 1${layout.dedicated.length > 1 ? `-${layout.dedicated.length}` : ''} on core${layout.dedicated.length > 1 ? 's' : ''} ${formatCpuList(layout.dedicated)}, vCPU 0 and QEMU on ${formatCpuList(layout.housekeeping)}, ${layout.hugepages} hugepages of 2 MiB`);
    return layout;
  }

  /** The image as server has it, read there once per run. */
  private imageOn(server: string, machine: Machine, name: string): Promise<GuestImage> {
    const key = `${server} ${name}`;
    let image = this.serverImages.get(key);
    if (!image) this.serverImages.set(key, (image = loadImageOn(server, machine.run, name)));
    return image;
  }

  /** Start (at most one per core at once), then give the guest its identity. */
  private async bringUp(spec: GuestSpec): Promise<Guest> {
    await this.starting.acquire();
    try {
      const guest = await this.backend.start(spec).finally(() => {
        // its QEMU has taken its hugepages (or failed): the machine's count says so from here on
        if (spec.layout) this.hugepagesPlanned -= spec.layout.hugepages;
      });
      try {
        await guest.agent(`identity ${spec.name} ${BigInt(Date.now()) * 1_000_000n} ${randomBytes(32).toString('hex')}`);
        if (spec.share && !guest.restored) await guest.agent(`mount ${spec.share}`);   // a clone's is mounted in its template
      } catch (e) {
        throw await guestFailed(guest, (e as Error).message);
      }
      return guest;
    } finally {
      this.starting.release();
    }
  }

  /** The NIC is named and addressed as its intf in the guest (vmReady waits); one per intf, at most MAX_NICS, whichever backend. */
  attachNic({ name, nic }: { name: string; nic: NicAttachment }): void {
    this.queue(name, async (guest) => {
      if (guest.intfs.has(nic.intf)) throw new MnkvmError(`${name}: ${nic.intf} already has a NIC`);
      if (guest.intfs.size >= MAX_NICS) throw new MnkvmError(noFreeSlot(name, nic.intf));
      const { guestMac, mac } = await guest.attach(nic);
      await guest.agent(`nic ${guestMac} ${nic.intf} ${mac}`).catch((e: Error) => { throw new MnkvmError(`${name}: ${e.message}`); });
      const host = this.hosts.get(name);
      if (host?.layout && nic.kind === 'vf') this.steerWhileUp(host, nic.pci);
    });
  }

  /**
   * A VF's host interrupts appear once the guest's driver enables them (as
   * Mininet brings the link up, after the NIC is plugged): steer each one
   * that appears within 30 s to the host's housekeeping cores (tune.ts), in
   * the background, while the host runs.
   */
  private steerWhileUp(host: HostVm, pci: string): void {
    const end = Date.now() + 30_000;
    const look = () => {
      if (![...this.hosts.values()].includes(host) || Date.now() > end) return;
      steerVfIrqs(pci, host.layout!.housekeeping);
      setTimeout(look, 250).unref();
    };
    look();
  }

  /** The guest lets go of the NIC (its name is free at once), then the backend unplugs it. */
  detachNic({ name, intf }: { name: string; intf: string }): void {
    this.queue(name, async (guest) => {
      try {
        await guest.agent(`unplug ${intf}`);
      } finally {
        await guest.detach(intf);
      }
    });
  }

  async pinVm({ name, cores }: { name: string; cores: number[] }): Promise<void> {
    const count = availableParallelism();
    if (!cores.length || cores.some((c) => !Number.isInteger(c) || c < 0 || c >= count)) {
      throw new MnkvmError(`${name}: cannot pin to cores ${cores.join(',') || '(none)'}: use cores between 0 and ${count - 1}`);
    }
    await (await this.host(name).guest).pin(cores);
  }

  /** Hosts stop in parallel; shutdown() waits for them all. */
  stopVm({ name }: { name: string }): void {
    const host = this.hosts.get(name);
    if (!host) return;
    this.hosts.delete(name);
    this.stopping.set(name, this.track(async () => {
      await (await host.guest.catch(() => null))?.stop();
      for (const core of host.layout?.dedicated ?? []) {
        this.record.release('core', String(core));
        this.dedicated.delete(core);
      }
    }));
  }

  async shellFailure({ name, bootTimeout }: { name: string; bootTimeout: number | null }): Promise<string> {
    const lines = (await this.hosts.get(name)?.running?.diagnostics()) ?? [];
    return guestFailure(name, bootTimeout === null ? 'closed its console' : bootTimedOut(bootTimeout), lines);
  }

  recordShell({ name, pid }: { name: string; pid: number }): void {
    this.record.add({ kind: 'shell', name, proc: processId(pid) });
  }

  recordHostProcess({ name, pid }: { name: string; pid: number }): void {
    const start = startTime(pid);
    if (start !== null) this.record.add({ kind: 'popen', name, proc: { pid, start } });   // (else it has ended already)
  }

  servers(): ServersAnswer | null {
    const c = this.cluster;
    return c && { servers: c.list(), sshConfig: c.sshConfig(), placement: c.placement };
  }

  /** A clash with another run, or with something that is not mnkvm's, is one line (kind clash); on a server, its record claims. */
  async claimNames({ kind, names, server }: { kind: NameKind; names: string[]; server?: string | null }): Promise<void> {
    for (const name of names) {
      if (server) await this.onServer(server).record(server, { claim: { of: kind, name } });
      else this.record.claim(kind, name);
    }
  }

  async recordIntf({ name, server }: { name: string; server?: string | null }): Promise<void> {
    await this.recordNamed('intf', name, server);
  }

  /** Its name is not this run's to remove. */
  async releaseIntf({ name, server }: { name: string; server?: string | null }): Promise<void> {
    if (server) await this.onServer(server).record(server, { release: { of: 'link', name } });
    else this.record.release('link', name);
  }

  async recordBridge({ name, server }: { name: string; server?: string | null }): Promise<void> {
    await this.recordNamed('bridge', name, server);
  }

  async recordOvsBridge({ name, server }: { name: string; server?: string | null }): Promise<void> {
    await this.recordNamed('ovsbr', name, server);
  }

  /** Claim a root-namespace name and record the thing about to be made with it, here or in server's record. */
  private async recordNamed(kind: 'intf' | 'bridge' | 'ovsbr', name: string, server?: string | null): Promise<void> {
    if (server) {
      const servers = this.onServer(server);
      await servers.record(server, { claim: { of: 'link', name } });
      await servers.record(server, { add: { kind, name } });
      return;
    }
    this.record.claim('link', name);
    this.record.add({ kind, name });
  }

  private onServer(server: string): Servers {
    if (!this.cluster) throw new MnkvmError(`${server}: this run has no servers: give them with --servers`);
    return this.cluster;
  }

  recordCgroup({ name }: { name: string }): void {
    this.record.claim('cgroup', name);
    this.record.add({ kind: 'cgroup', name });
  }

  recordRule({ args }: { args: string[] }): void {
    this.record.add({ kind: 'rule', args });
  }

  recordSysctl({ key, value }: { key: string; value: string }): void {
    this.record.add({ kind: 'sysctl', key, value });
  }

  bridgeNetfilterNotice(): string | null {
    return bridgeNetfilterNotice();
  }

  /** E.g. after Python was interrupted mid-call. */
  async containerImage({ dimage, source }: { dimage: string; source: string | null }): Promise<ContainerImage> {
    const started = Date.now();
    const image = await containerImage(dimage, source);
    if (source && image.name !== source) {
      this.progress({ kind: 'imageImported', dimage, image: image.name, source, seconds: (Date.now() - started) / 1000 });
    }
    return image;
  }

  async settle(): Promise<void> {
    const pending = [...this.inflight];
    // (an unref'd timer: a program whose network stopped exits at once, not 20 s later)
    await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, 20_000).unref())]);
  }

  // ---- called from TypeScript ----

  /** Record a process of the session (the bridged Python). */
  recordProcess(name: string, pid: number): void {
    this.record.add({ kind: 'process', name, proc: processId(pid) });
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

  /** Run op on host name's guest once what the host has under way is done. */
  // (not `then`: an object with a then method is a thenable, and awaiting it would call it)
  private queue(name: string, op: (guest: Guest) => Promise<void>): void {
    const host = this.host(name);
    host.ops = this.track(() => host.ops.then(async () => {
      const guest = await host.guest.catch(() => null);
      if (guest) await op(guest).catch((e: Error) => { host.failed.push(e); });
    }));
  }

  private track<T>(op: () => Promise<T>): Promise<T> {
    const p = op();
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }
}

/** What a KVM host on a server cannot have: one line each, saying what to do. */
function checkOnServer(name: string, server: string, options: Omit<KvmHostOptions, 'image' | 'cores'>): void {
  if (options.backend !== 'libvirt') {
    throw new MnkvmError(`${name}: a KVM host on a server (${server}) runs under that server's libvirtd: give backend=libvirt (--host kvm,backend=libvirt)`);
  }
  if (options.uri !== SYSTEM_LIBVIRT) {
    throw new MnkvmError(`${name}: uri=${options.uri} names this machine's libvirtd; a host on ${server} uses that server's (over qemu+ssh): leave uri= out`);
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
