// LibvirtBackend: guests as transient domains of a libvirtd (`virsh list`
// shows them while they run; destroyed, they are gone), here or on a server
// of the run (its libvirtd over qemu+ssh). @unraid/libvirt does the
// domain's lifecycle; what it lacks (device hot-plug) goes through libvirt's
// own virsh, run where the domain is. libvirtd runs QEMU in its own network
// namespace, so a NIC's tap is made there (claimed, recorded), handed to
// libvirt by name (managed='no') and, once QEMU holds it, moved into the KVM
// host's namespace, where it is wired to the veth as the QEMU backend's
// taps are. Everything around the domain runs through its Machine
// (machine.ts): commands, records, the agent's FIFOs, the console socket.
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import type { Domain, Hypervisor } from '@unraid/libvirt';
import { bootTimedOut, guestFailed, type AttachedNic, type Guest, type GuestSpec, type NicAttachment, type Notice, type VmBackend } from '../backend.js';
import { MnkvmError } from '../errors.js';
import { QEMU, type Accel } from '../guest/accel.js';
import { GuestAgent } from '../guest/agent.js';
import { FIRST_NIC, mgmtSsh } from '../guest/contract.js';
import { makeGuestDir, serialLog } from '../guest/dir.js';
import { SYSTEM_LIBVIRT } from '../options.js';
import type { Machine, Reached } from '../machine.js';
import { prepareFarEnd, removeFarEnd, wireMgmt, wireTap } from '../nics.js';
import { isAlive, killIfSame, nsBatch, pinThreads, processId, runOk, type ProcessId, type Runner } from '../proc.js';
import type { RunRecord } from '../records.js';
import { domainXml, tapInterfaceXml, vfAddressXml, vfHostdevXml } from './domain.js';

/** Where libvirtd keeps a running QEMU domain's pid and log (Debian's libvirtd). */
const LIBVIRT_QEMU_RUN = '/run/libvirt/qemu';
const LIBVIRT_QEMU_LOG = '/var/log/libvirt/qemu';

/** libvirtd as this machine reaches it, and as commands where it runs name it. */
interface Uris { connect: string; there: string }

export class LibvirtBackend implements VmBackend {
  private hypervisor: Promise<Hypervisor> | null = null;
  private readonly uris: Uris;

  constructor(private readonly uri: string, private readonly machine: Machine, private readonly record: RunRecord,
    private readonly notice: (line: string, level?: Notice['level']) => void) {
    this.uris = machine.libvirtUri(uri);
  }

  async start(guest: GuestSpec): Promise<Guest> {
    const { accel, notice } = this.machine.accel(guest.accel);
    if (notice) this.notice(notice);
    if (guest.boot === 'clone') {
      // libvirt's save/restore copies a whole guest per clone; mnkvm's
      // copy-on-write templates need QEMU's x-ignore-shared migration, which libvirt does not offer
      this.notice('*** mnkvm: backend=libvirt: KVM hosts boot cold (libvirt has no copy-on-write snapshot clones)');
    }
    const vm = await LibvirtVm.start({ ...guest, accel }, await this.connect(), this.uris, this.record);
    try {
      if (!(await vm.waitReady(guest.bootTimeout * 1000))) {
        throw new Error(vm.alive() ? bootTimedOut(guest.bootTimeout) : 'stopped while booting');
      }
    } catch (e) {
      throw await guestFailed(vm, (e as Error).message);
    }
    return vm;
  }

  /** The connection to libvirtd, opened once (the module loaded only here: the QEMU backend needs none of it). */
  private connect(): Promise<Hypervisor> {
    const where = this.machine.server ? `${this.machine.server}: ` : '';
    this.hypervisor ??= (async () => {
      if (this.uri !== SYSTEM_LIBVIRT) {
        throw new MnkvmError(`backend=libvirt uri=${this.uri}: KVM hosts run on this machine's libvirtd (qemu:///system), or on servers' (give them with --servers): leave uri= out`);
      }
      let libvirt: typeof import('@unraid/libvirt');
      try {
        libvirt = await import('@unraid/libvirt');
      } catch (e) {
        throw new MnkvmError(`backend=libvirt: the @unraid/libvirt module does not load (${(e as Error).message.split('\n')[0]}): run ./setup.sh`);
      }
      const hypervisor = new libvirt.Hypervisor({ uri: this.uris.connect });
      try {
        await hypervisor.connectOpen();
      } catch (e) {
        throw new MnkvmError(`${where}backend=libvirt: cannot connect to libvirtd (${this.uris.connect}: ${(e as Error).message.split('\n')[0]}): ` +
          (where ? 'prepare the server with ansible/ (its mnkvm role installs and starts libvirtd)' : 'start libvirtd (./setup.sh starts it)'));
      }
      return hypervisor;
    })();
    return this.hypervisor;
  }
}

/** A NIC plugged into the domain: what it is wired to, the XML libvirt knows it by, and its tap in the host's namespace. */
interface PluggedNic { nic: NicAttachment; xml: string; tap: string | null }

type LibvirtSpec = GuestSpec & { accel: Accel };

class LibvirtVm implements Guest {
  readonly ssh: Guest['ssh'];
  readonly restored = false;
  private readonly nics = new Map<string, PluggedNic>();
  private firstNicFree = true;
  private taps = 1;                     // tap1 is the first NIC's; hot-plugged ones are tap2, tap3, ...
  private guestAgent: Promise<GuestAgent> | null = null;
  private stopped: Promise<void> | null = null;
  /** The domain's QEMU was seen gone (a guest on a server has no process here to look at). */
  private gone = false;
  /** Runs commands where the domain is. */
  private readonly on: Runner;

  private constructor(
    private readonly spec: LibvirtSpec, private readonly hypervisor: Hypervisor, private readonly uris: Uris,
    private readonly domainName: string, private readonly domain: Domain,
    /** QEMU's pid where it runs, and its identity where that is here (null on a server). */
    private readonly qemuPid: number, private readonly proc: ProcessId | null,
    private readonly consoleHere: Reached, private readonly fileServer: (() => void) | null, private readonly record: RunRecord,
  ) {
    this.on = spec.machine.run;
    this.ssh = mgmtSsh(spec.image);
  }

  get name(): string { return this.spec.name; }
  get accel(): Guest['accel'] { return this.spec.accel; }
  /** Its QEMU here; null for one on a server. */
  get pid(): number | null { return this.proc?.pid ?? null; }
  /** A Unix socket here (on a server's guest: forwarded over the run's SSH connection). */
  get console(): string { return this.consoleHere.path; }
  get intfs(): ReadonlySet<string> { return new Set(this.nics.keys()); }

  static async start(spec: LibvirtSpec, hypervisor: Hypervisor, uris: Uris, record: RunRecord): Promise<LibvirtVm> {
    const { machine } = spec;
    const on = machine.run;
    await makeGuestDir(spec.dir, spec.share !== null, on);
    // (a guest on a server mounts the server's folder, as a namespace host there sees it)
    const fileServer = spec.share ? await machine.serveFiles(spec.name, spec.dir) : null;
    // (this machine's run folder names the run: two runs' hosts h1 are two domains)
    const domainName = `mnkvm-${basename(record.dir)}-${spec.name}`;
    const taps: string[] = [];
    let consoleHere: Reached | null = null;
    try {
      taps.push(await rootTap(machine), await rootTap(machine));
      const [mgmtTap, firstTap] = taps as [string, string];
      const emulator = (await runOk('sh', ['-c', `command -v ${QEMU}`], undefined, on).catch(() => '')).trim();
      if (!emulator) throw new MnkvmError(`${machine.server ? `${machine.server}: ` : ''}${QEMU} is not installed: ${machine.server ? 'prepare the server with ansible/' : 'run ./setup.sh'}`);
      const xml = domainXml(spec, { domain: domainName, emulator, accel: spec.accel, mgmtTap, firstTap });
      await runOk('sh', ['-c', 'cat > "$1"', 'sh', join(spec.dir, 'domain.xml')], xml, on);
      await machine.add({ kind: 'domain', name: domainName, uri: uris.there });
      let domain: Domain;
      try {
        domain = await hypervisor.domainCreateXML(xml);
      } catch (e) {
        throw new MnkvmError(`${spec.name}: libvirt did not start its domain ${domainName} (${(e as Error).message.split('\n')[0]})`);
      }
      // (not recorded: the domain is, and the sweep destroys it through libvirtd)
      const qemuPid = Number(await runOk('cat', [join(LIBVIRT_QEMU_RUN, `${domainName}.pid`)], undefined, on));
      consoleHere = await machine.reach(join(spec.dir, 'console.sock'), join(record.dir, `console-${spec.name}.sock`));
      const vm = new LibvirtVm(spec, hypervisor, uris, domainName, domain, qemuPid, machine.server ? null : processId(qemuPid),
        consoleHere, fileServer, record);
      await vm.intoNamespace(mgmtTap, 'mnkvm0');
      await vm.intoNamespace(firstTap, 'tap1');
      await wireMgmt(spec.nsPid, on);
      return vm;
    } catch (e) {
      consoleHere?.close();
      await on('virsh', ['-q', '-c', uris.there, 'destroy', domainName]);
      // its taps, where they are still libvirtd's (those moved go with the host's namespace)
      for (const tap of taps) await on('ip', ['link', 'del', tap]);
      fileServer?.();
      throw e;
    }
  }

  /** Move a tap QEMU holds from libvirtd's namespace into the host's, named there as the QEMU backend names its own. */
  private async intoNamespace(tap: string, name: string): Promise<void> {
    await runOk('ip', ['link', 'set', tap, 'netns', String(this.spec.nsPid)], undefined, this.on);
    await nsBatch(this.spec.nsPid, 'ip', [`link set ${tap} name ${name}`], this.on);
  }

  /** Wait until the guest's init says it is ready on its serial console (one command where the domain runs); false if QEMU ended. */
  async waitReady(timeoutMs: number): Promise<boolean> {
    const r = await this.on('timeout', [String(Math.ceil(timeoutMs / 1000)), 'sh', '-c',
      // (a look every 0.1 s: a booting guest on a server under nested TCG needs the server's CPUs more)
      'until grep -qs "mnkvm-guest: ready" "$1"; do kill -0 "$2" 2>/dev/null || exit 3; sleep 0.1; done',
      'sh', serialLog(this.spec.dir), String(this.qemuPid)]);
    if (r.code === 3) this.gone = true;
    return r.code === 0;
  }

  async agent(request: string): Promise<void> {
    this.guestAgent ??= this.spec.machine.agentLink(join(this.spec.dir, 'ctl')).then((link) => new GuestAgent(link));
    return (await this.guestAgent).request(request, this.spec.bootTimeout * 1000);
  }

  /**
   * Give the guest a NIC wired as nic says: a tap or a tunnel end takes the
   * NIC the domain started with while it is free, else a virtio NIC is
   * hot-plugged on a new tap; a VF is hot-plugged (virsh attach-device).
   */
  async attach(nic: NicAttachment): Promise<AttachedNic> {
    const { intf } = nic;
    const { machine } = this.spec;
    if (machine.server && nic.kind === 'tunnel') {
      throw new MnkvmError(`${this.name}: a KVM host on a server (${machine.server}) takes Mininet's links (veth ends, VXLAN across servers) and SR-IOV links, not an engine-made tunnel`);
    }
    // (a VF on a server: the server's VF pool bound it to vfio-pci, and checked it, there)
    const mac = machine.server && nic.kind === 'vf' ? nic.mac : await prepareFarEnd(this.name, this.spec.nsPid, nic, this.record, this.on);
    if (nic.kind !== 'vf' && this.firstNicFree) {
      this.firstNicFree = false;
      this.nics.set(intf, { nic, xml: tapInterfaceXml('tap1', FIRST_NIC.mac), tap: 'tap1' });
      await wireTap(this.spec.nsPid, 'tap1', intf, this.on);
      return { guestMac: FIRST_NIC.mac, mac };
    }
    const rootName = nic.kind === 'vf' ? null : await rootTap(machine);
    const xml = nic.kind === 'vf' ? vfHostdevXml(nic.pci) : tapInterfaceXml(rootName!, mac);
    try {
      await this.virsh('attach-device', xml, `could not plug a NIC for ${intf}`);
    } catch (e) {
      if (rootName) await this.on('ip', ['link', 'del', rootName]);
      await removeFarEnd(this.spec.nsPid, nic);
      throw e;
    }
    const tap = rootName ? `tap${++this.taps}` : null;
    this.nics.set(intf, { nic, xml, tap });
    if (rootName && tap) {
      await this.intoNamespace(rootName, tap);
      await wireTap(this.spec.nsPid, tap, intf, this.on);
    }
    return { guestMac: mac, mac };
  }

  /** Unplug intf's NIC and wait until QEMU has let go of it (a VF is the machine's again only then); its wiring goes. */
  async detach(intf: string): Promise<void> {
    const plugged = this.nics.get(intf);
    if (!plugged) return;
    this.nics.delete(intf);
    await this.virsh('detach-device', plugged.xml, `could not unplug ${intf}`);
    // libvirt's live XML names the device until QEMU has removed it (the guest's unplug)
    const marker = plugged.nic.kind === 'vf' ? vfAddressXml(plugged.nic.pci) : /<mac address='[^']+'\/>/.exec(plugged.xml)![0];
    for (const deadline = Date.now() + 30_000; this.alive() && Date.now() < deadline;) {
      const live = await this.on('virsh', ['-q', '-c', this.uris.there, 'dumpxml', this.domainName]);
      if (live.code !== 0 || !live.stdout.includes(marker)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const nsPid = this.spec.nsPid;
    if (plugged.nic.kind === 'tap') await nsBatch(nsPid, 'tc', [`qdisc del dev ${intf} ingress`], this.on).catch(() => undefined);
    if (plugged.tap) await nsBatch(nsPid, 'ip', [`link del ${plugged.tap}`], this.on).catch(() => undefined);
    await removeFarEnd(nsPid, plugged.nic);
  }

  /** Run one device change through virsh where the domain is (@unraid/libvirt has no device calls), live only: the domain is transient. */
  private async virsh(command: 'attach-device' | 'detach-device', xml: string, what: string): Promise<void> {
    const r = await this.on('sh', ['-c', 'cat > "$1" && exec virsh -q -c "$2" "$3" "$4" "$1" --live',
      'sh', join(this.spec.dir, `${command}.xml`), this.uris.there, command, this.domainName], xml);
    if (r.code !== 0) throw new MnkvmError(`${this.name}: libvirt ${what} (${r.stderr.trim().split('\n').at(-1)})`);
  }

  pin(cores: number[]): Promise<void> {
    return pinThreads(this.name, this.qemuPid, cores, this.on);
  }

  /** Destroy the domain (libvirt forgets a transient one), then its taps in the namespace, file server and runtime folder. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      // (libvirt's destroy returns once QEMU has ended, or after killing it)
      await this.hypervisor.domainDestroy(this.domain).catch(() => undefined);
      this.gone = true;
      void this.guestAgent?.then((a) => a.close(), () => undefined);
      this.consoleHere.close();
      if (this.proc && isAlive(this.proc)) killIfSame(this.proc, 'SIGKILL', false);
      // (taps made by mnkvm outlive QEMU: they go here, or with the namespace)
      const taps = new Set(['mnkvm0', 'tap1', ...[...this.nics.values()].flatMap((n) => (n.tap ? [n.tap] : []))]);
      await this.on('nsenter', ['-t', String(this.spec.nsPid), '-n', 'ip', '-force', '-batch', '-'], [...taps].map((t) => `link del ${t}`).join('\n') + '\n');
      this.fileServer?.();
      await this.on('rm', ['-rf', this.spec.dir]);
    })();
    return this.stopped;
  }

  /** The serial console's and libvirt's QEMU log's last lines, read where the domain runs. */
  async diagnostics(lines = 10): Promise<string[]> {
    const r = await this.on('sh', ['-c', 'cat "$1" "$2" 2>/dev/null | tr -d "\\r" | grep -v "^[[:space:]]*$" | tail -n "$3"',
      'sh', serialLog(this.spec.dir), join(LIBVIRT_QEMU_LOG, `${this.domainName}.log`), String(lines)]);
    return [...r.stdout.split('\n').filter((l) => l), ...(this.alive() ? [] : ['(QEMU has exited)'])];
  }

  alive(): boolean {
    return this.proc ? isAlive(this.proc) : !this.gone;
  }
}

/** A new tap of libvirtd's namespace (its machine's root namespace), claimed and recorded there before it exists. */
async function rootTap(machine: Machine): Promise<string> {
  const name = `mkt${randomBytes(4).toString('hex')}`;
  await machine.claim('link', name);
  await machine.add({ kind: 'intf', name });
  await runOk('ip', ['tuntap', 'add', 'dev', name, 'mode', 'tap'], undefined, machine.run);
  return name;
}
