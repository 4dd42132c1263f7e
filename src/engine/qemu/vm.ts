// QemuVm: one QEMU process per KVM host, started inside the host's
// network namespace and driven over QMP (start, migration for snapshot
// templates, NIC hot-plug into pre-created PCIe root ports, stop).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nicDevice, qemuArgs, tapNetdev, type VmSpec } from './args.js';
import { QmpClient, type QmpEvent } from './qmp.js';
import { bootTimedOut, type AttachedNic, type Guest, type NicAttachment } from '../backend.js';
import { MnkvmError } from '../errors.js';
import { QEMU } from '../guest/accel.js';
import { fifoLink, GuestAgent } from '../guest/agent.js';
import { FIRST_NIC, MAX_NICS, mgmtSsh, noFreeSlot } from '../guest/contract.js';
import { lastLines, makeGuestDir, serialLog, waitSerialReady } from '../guest/dir.js';
import { startFileServer } from '../guest/fileserver.js';
import { prepareFarEnd, removeFarEnd, wireMgmt, wireTap } from '../nics.js';
import { isAlive, killIfSame, nsBatch, pinThreads, processId, runOk, waitGone, type ProcessId } from '../proc.js';
import type { RunRecord } from '../records.js';
import { pinTuned } from '../tune/layout.js';

/** A VM's NIC: its root port, and what it is wired to. */
interface PluggedNic { port: number; nic: NicAttachment }

export class QemuVm implements Guest {
  readonly console: string;
  readonly ssh: Guest['ssh'];
  private readonly nics = new Map<string, PluggedNic>();   // by intf name
  private firstNicFree = true;                          // FIRST_NIC is not given to an intf yet
  private readonly releasing = new Set<number>();       // root ports whose NIC the guest has not released yet
  private guestAgent: GuestAgent | null = null;
  private stopped: Promise<void> | null = null;
  private constructor(
    readonly spec: VmSpec, readonly proc: ProcessId, private readonly qmp: QmpClient,
    private readonly fileServer: ProcessId | null, private readonly record: RunRecord,
  ) {
    this.console = join(spec.dir, 'console.sock');
    this.ssh = mgmtSsh(spec.image);
    // An unplugged NIC leaves its root port when the guest lets go of it (Linux's
    // pciehp waits 5 s after the attention button): only then can the port take another.
    qmp.on('event', (e: QmpEvent) => {
      const port = e.event === 'DEVICE_DELETED' ? /^nic(\d+)$/.exec(String(e.data?.device ?? ''))?.[1] : undefined;
      if (port) this.releasing.delete(Number(port));
    });
  }

  get name(): string { return this.spec.name; }
  get accel(): Guest['accel'] { return this.spec.accel; }
  get restored(): boolean { return this.spec.boot.kind === 'clone'; }
  get pid(): number { return this.proc.pid; }
  get intfs(): ReadonlySet<string> { return new Set(this.nics.keys()); }

  /** Start QEMU paused (the caller connects the console, then resume()s). */
  static async start(spec: VmSpec, record: RunRecord): Promise<QemuVm> {
    await makeGuestDir(spec.dir, spec.share !== null);
    const fileServer = spec.share ? await startFileServer({ name: spec.name, dir: spec.dir, clone: spec.boot.kind === 'clone' }, record) : null;
    try {
      return await QemuVm.run(spec, record, fileServer);
    } catch (e) {
      if (fileServer) killIfSame(fileServer, 'SIGKILL');
      throw e;
    }
  }

  private static async run(spec: VmSpec, record: RunRecord, fileServer: ProcessId | null): Promise<QemuVm> {
    const logPath = join(spec.dir, 'qemu.log');
    const log = openSync(logPath, 'w');
    // nsenter execs QEMU (no fork for a network namespace), so child.pid is QEMU's pid.
    // detached: its own process group, out of reach of the terminal's Ctrl-C.
    const netns = spec.nsPid === null ? ['unshare', '-n', '--'] : ['nsenter', '-t', String(spec.nsPid), '-n', '--'];
    const child = spawn(netns[0], [...netns.slice(1), QEMU, ...qemuArgs(spec, existsSync('/dev/vhost-net'))],
      { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    child.unref();
    let exit = 'QEMU exited at start';
    child.once('exit', (code, signal) => { exit = `QEMU exited at start (${signal ?? `exit code ${code}`})`; });
    const failure = () => {
      const text = existsSync(logPath) ? readFileSync(logPath, 'utf8').trim().split('\n').filter(Boolean) : [];
      return new MnkvmError(`${spec.name}: QEMU ${text.at(-1) ?? exit}`);
    };
    if (child.pid === undefined) throw new MnkvmError(`${QEMU} could not be started: run ./setup.sh`);
    let proc: ProcessId;
    try {
      proc = processId(child.pid);
    } catch {
      throw failure();
    }
    record.add({ kind: 'vm', name: spec.name, proc });
    let qmp: QmpClient | undefined;
    try {
      // QEMU binds its QMP socket before it listens: connect until it answers.
      const qmpPath = join(spec.dir, 'qmp.sock');
      const deadline = Date.now() + spec.bootTimeout * 1000;
      while (!qmp) {
        if (!isAlive(proc)) throw failure();
        if (Date.now() > deadline) throw new MnkvmError(`${spec.name}: QEMU ${bootTimedOut(spec.bootTimeout, 'did not answer on its QMP socket')}`);
        qmp = existsSync(qmpPath) ? await QmpClient.open(qmpPath).catch(() => undefined) : undefined;
        if (!qmp) await new Promise((r) => setTimeout(r, 10));
      }
      if (spec.layout) {
        const cpus = (await qmp.execute('query-cpus-fast')) as { 'cpu-index': number; 'thread-id': number }[];
        await pinTuned(spec.name, proc.pid, cpus.map((c) => ({ index: c['cpu-index'], tid: c['thread-id'] })), spec.layout,
          spec.accel === 'kvm' && spec.layout.fifo);
      }
      // The namespace side of the management link, while a clone loads its device state.
      const mgmt = spec.nsPid === null ? null : wireMgmt(spec.nsPid);
      const vm = new QemuVm(spec, proc, qmp, fileServer, record);
      await Promise.all([mgmt, spec.boot.kind === 'clone' ? vm.migrate('migrate-incoming', `exec:cat ${spec.boot.state}`) : null]);
      return vm;
    } catch (e) {
      // a QEMU that did not come up, or a clone whose state did not load
      qmp?.close();
      killIfSame(proc, 'SIGKILL', true);
      throw e;
    }
  }

  /**
   * Run a migration with the x-ignore-shared capability (RAM in a shared
   * file is not copied) and wait for it: `migrate` saves this VM's device
   * state to uri; `migrate-incoming` loads it into this (paused) clone.
   */
  async migrate(command: 'migrate' | 'migrate-incoming', uri: string): Promise<void> {
    await this.qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: true }] });
    await this.qmp.execute(command, { uri });
    const deadline = Date.now() + this.spec.bootTimeout * 1000;
    for (;;) {
      const { status, 'error-desc': error } = (await this.qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
      if (status === 'completed') return;
      if (status === 'failed' || status === 'cancelled') throw new Error(`${command} ${status}${error ? `: ${error}` : ''}`);
      if (Date.now() > deadline) throw new Error(bootTimedOut(this.spec.bootTimeout, `${command} did not complete`));
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Wait (at most timeoutMs) until the guest's init says it is ready on the serial console; false if it did not, or QEMU exited. */
  waitReady(timeoutMs: number): Promise<boolean> {
    return waitSerialReady(this.spec.dir, timeoutMs, () => this.alive());
  }

  /** Ask the guest's mnkvm-agent (see guest/agent.ts) for one thing: identity, nic or mount. */
  agent(request: string): Promise<void> {
    this.guestAgent ??= new GuestAgent(fifoLink(join(this.spec.dir, 'ctl')));
    return this.guestAgent.request(request, this.spec.bootTimeout * 1000);
  }

  /** Pause the guest (before its state is saved). */
  async pause(): Promise<void> {
    await this.qmp.execute('stop');
  }

  /** Let the guest run (it was started paused so that no console output is lost). */
  async resume(): Promise<void> {
    await this.qmp.execute('cont');
  }

  /**
   * Give the guest a NIC wired as nic says (see NicAttachment). A tap or a
   * tunnel end gets the virtio NIC plugged in at start if it is still free
   * (under TCG a PCIe hot-plug costs the guest ~0.3 s of CPU), else a
   * hot-plugged one; a VF is hot-plugged. Returns the NIC's MAC in the
   * guest now, and the MAC it must carry: a veth's own (Mininet chose it
   * and reports it), a tunnel end's, or the VF's.
   */
  async attach(nic: NicAttachment): Promise<AttachedNic> {
    const { intf } = nic;
    const virtio = nic.kind !== 'vf';
    const port = this.freePort(intf, virtio);
    const nsPid = this.nsPid();
    const mac = await prepareFarEnd(this.name, nsPid, nic, this.record);
    let guestMac = mac;
    if (virtio && port === FIRST_NIC.port && this.firstNicFree) {
      this.firstNicFree = false;
      guestMac = FIRST_NIC.mac;
    } else {
      try {
        // VFIO pins the guest's RAM: QEMU's locked-memory limit must allow it (as libvirt raises it)
        if (!virtio) await runOk('prlimit', ['--pid', String(this.proc.pid), '--memlock=unlimited:unlimited']);
        if (virtio) await this.qmp.execute('netdev_add', tapNetdev(port, this.spec.accel, existsSync('/dev/vhost-net')));
        await this.qmp.execute('device_add', nicDevice(port, virtio ? { kind: 'virtio', mac } : { kind: 'vfio', pci: nic.pci }));
      } catch (e) {
        if (virtio) await this.qmp.execute('netdev_del', { id: `net${port}` }).catch(() => undefined);
        throw new MnkvmError(`${this.name}: QEMU could not plug a NIC for ${intf} (${(e as Error).message})`);
      }
    }
    this.nics.set(intf, { port, nic });
    if (virtio) await wireTap(nsPid, `tap${port}`, intf);
    return { guestMac, mac };
  }

  /**
   * The first root port free for a NIC (port 1 holds the NIC plugged in at
   * start until a virtio NIC takes it). The engine counts a host's links;
   * ports can still run out below MAX_NICS links: one the guest has not let
   * go of yet, or port 1 where a VF comes and no virtio NIC has taken it.
   */
  private freePort(intf: string, virtio: boolean): number {
    const used = new Set([...[...this.nics.values()].map((n) => n.port), ...this.releasing]);
    if (!virtio && this.firstNicFree) used.add(FIRST_NIC.port);
    let port = 1;
    while (used.has(port)) port++;
    if (port > MAX_NICS) {
      throw new MnkvmError(this.releasing.size
        ? noFreeSlot(this.name, intf, `the guest is still releasing a removed link's NIC: try again in a few seconds`)
        : noFreeSlot(this.name, intf));
    }
    return port;
  }

  private nsPid(): number {
    if (this.spec.nsPid === null) throw new MnkvmError(`${this.name}: a VM without a host namespace has no links`);
    return this.spec.nsPid;
  }

  /** Unplug the NIC of intf (the guest releases it in the background); its wiring goes, a tunnel end too. */
  async detach(intf: string): Promise<void> {
    const plugged = this.nics.get(intf);
    if (plugged === undefined) return;
    const { port, nic } = plugged;
    this.nics.delete(intf);
    this.releasing.add(port);
    await this.qmp.execute('device_del', { id: `nic${port}` }).catch(() => this.releasing.delete(port));
    if (nic.kind !== 'vf') await this.qmp.execute('netdev_del', { id: `net${port}` }).catch(() => undefined);
    // A VF is the machine's again only once QEMU has let go of it (the guest's unplug, or QEMU's end)
    for (const deadline = Date.now() + 30_000; nic.kind === 'vf' && this.releasing.has(port) && this.alive() && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // the veth end stays Mininet's, without our redirect; a tunnel end was ours
    if (nic.kind === 'tap') await nsBatch(this.nsPid(), 'tc', [`qdisc del dev ${intf} ingress`]).catch(() => undefined);
    await removeFarEnd(this.nsPid(), nic);
  }

  /** Pin every thread of QEMU (vCPUs, I/O) to cores. */
  pin(cores: number[]): Promise<void> {
    return pinThreads(this.name, this.proc.pid, cores);
  }

  /** Stop QEMU: quit over QMP, SIGKILL if it lingers; then its file server and runtime folder. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.race([this.qmp.execute('quit').catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
      this.qmp.close();
      this.guestAgent?.close();
      if (!(await waitGone(this.proc, 2000))) {
        killIfSame(this.proc, 'SIGKILL', true);
        await waitGone(this.proc, 2000);
      }
      if (this.fileServer) killIfSame(this.fileServer, 'SIGKILL', false);
      rmSync(this.spec.dir, { recursive: true, force: true });
    })();
    return this.stopped;
  }

  /** The last lines the guest and QEMU printed, and whether QEMU has exited, for error messages. */
  async diagnostics(lines = 10): Promise<string[]> {
    return [...lastLines([serialLog(this.spec.dir), join(this.spec.dir, 'qemu.log')], lines), ...(this.alive() ? [] : ['(QEMU has exited)'])];
  }

  alive(): boolean {
    return isAlive(this.proc);
  }
}
