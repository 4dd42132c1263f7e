// LibvirtBackend: guests as transient domains of a libvirtd (`virsh list`
// shows them while they run; destroyed, they are gone). @unraid/libvirt
// does the domain's lifecycle; what it lacks (device hot-plug) goes through
// libvirt's own virsh. libvirtd runs QEMU in its own network namespace, so
// a NIC's tap is made there (claimed, recorded), handed to libvirt by name
// (managed='no') and, once QEMU holds it, moved into the KVM host's
// namespace, where it is wired to the veth as the QEMU backend's taps are.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Domain, Hypervisor } from '@unraid/libvirt';
import { GuestAgent } from '../agent.js';
import { guestFailed, MAX_NICS, type AttachedNic, type Guest, type GuestSpec, type NicAttachment, type Notice, type VmBackend } from '../backend.js';
import { MnkvmError } from '../errors.js';
import { prepareFarEnd, removeFarEnd, wireMgmt, wireTap } from '../nics.js';
import { isAlive, killIfSame, nsBatch, pinThreads, processId, run, runOk, waitGone, type ProcessId } from '../proc.js';
import { QEMU, resolveAccel, tcgNotice, type Accel } from '../qemu/accel.js';
import { FIRST_NIC, MGMT } from '../qemu/args.js';
import { startFileServer } from '../qemu/fileserver.js';
import type { RunRecord } from '../records.js';
import { lastLines, makeGuestDir, serialLog, waitSerialReady } from '../guestdir.js';
import { domainXml, tapInterfaceXml, vfAddressXml, vfHostdevXml } from './domain.js';

/** Where libvirtd keeps a running QEMU domain's pid and log (this machine's libvirtd). */
const LIBVIRT_QEMU_RUN = '/run/libvirt/qemu';
const LIBVIRT_QEMU_LOG = '/var/log/libvirt/qemu';

export class LibvirtBackend implements VmBackend {
  private hypervisor: Promise<Hypervisor> | null = null;

  constructor(private readonly uri: string, private readonly record: RunRecord,
    private readonly notice: (line: string, level?: Notice['level']) => void) {}

  async start(guest: GuestSpec): Promise<Guest> {
    const accel = resolveAccel(guest.accel);
    if (accel === 'tcg') this.notice(tcgNotice(guest.accel));
    if (guest.boot === 'clone') {
      // libvirt's save/restore copies a whole guest per clone; mnkvm's
      // copy-on-write templates need QEMU's x-ignore-shared migration, which libvirt does not offer
      this.notice('*** mnkvm: backend=libvirt: KVM hosts boot cold (libvirt has no copy-on-write snapshot clones)');
    }
    const vm = await LibvirtVm.start({ ...guest, accel }, await this.connect(), this.uri, this.record);
    try {
      if (!(await vm.waitReady(guest.bootTimeout * 1000))) {
        throw new Error(vm.alive() ? `did not reach its shell within ${guest.bootTimeout} s` : 'stopped while booting');
      }
    } catch (e) {
      throw await guestFailed(vm, (e as Error).message);
    }
    return vm;
  }

  /** The connection to libvirtd, opened once (the module loaded only here: the QEMU backend needs none of it). */
  private connect(): Promise<Hypervisor> {
    this.hypervisor ??= (async () => {
      if (this.uri !== 'qemu:///system') {
        throw new MnkvmError(`backend=libvirt uri=${this.uri}: KVM hosts run on this machine's libvirtd (qemu:///system): hosts on other servers are not there yet`);
      }
      let libvirt: typeof import('@unraid/libvirt');
      try {
        libvirt = await import('@unraid/libvirt');
      } catch (e) {
        throw new MnkvmError(`backend=libvirt: the @unraid/libvirt module does not load (${(e as Error).message.split('\n')[0]}): run ./setup.sh`);
      }
      const hypervisor = new libvirt.Hypervisor({ uri: this.uri });
      try {
        await hypervisor.connectOpen();
      } catch (e) {
        throw new MnkvmError(`backend=libvirt: cannot connect to ${this.uri} (${(e as Error).message.split('\n')[0]}): start libvirtd (./setup.sh starts it)`);
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
  readonly console: string;
  readonly ssh: Guest['ssh'];
  readonly restored = false;
  private readonly nics = new Map<string, PluggedNic>();
  private firstNicFree = true;
  private taps = 1;                     // tap1 is the first NIC's; hot-plugged ones are tap2, tap3, ...
  private guestAgent: GuestAgent | null = null;
  private stopped: Promise<void> | null = null;

  private constructor(
    private readonly spec: LibvirtSpec, private readonly hypervisor: Hypervisor, private readonly uri: string,
    private readonly domainName: string, private readonly domain: Domain, private readonly proc: ProcessId,
    private readonly fileServer: ProcessId | null, private readonly record: RunRecord,
  ) {
    this.console = join(spec.dir, 'console.sock');
    this.ssh = { key: spec.image.sshKey, target: `root@${MGMT.guest}` };
  }

  get name(): string { return this.spec.name; }
  get accel(): Guest['accel'] { return this.spec.accel; }
  get pid(): number { return this.proc.pid; }

  static async start(spec: LibvirtSpec, hypervisor: Hypervisor, uri: string, record: RunRecord): Promise<LibvirtVm> {
    await makeGuestDir(spec.dir, spec.share !== null);
    const fileServer = spec.share ? await startFileServer({ ...spec, boot: { kind: 'cold' } }, record) : null;
    // (the run's record folder names the run: two runs' hosts h1 are two domains)
    const domainName = `mnkvm-${basename(record.dir)}-${spec.name}`;
    const taps: string[] = [];
    try {
      taps.push(await rootTap(record), await rootTap(record));
      const [mgmtTap, firstTap] = taps as [string, string];
      const xml = domainXml(spec, { domain: domainName, emulator: emulatorPath(), accel: spec.accel, mgmtTap, firstTap });
      writeFileSync(join(spec.dir, 'domain.xml'), xml);
      record.add({ kind: 'domain', name: domainName, uri });
      let domain: Domain;
      try {
        domain = await hypervisor.domainCreateXML(xml);
      } catch (e) {
        throw new MnkvmError(`${spec.name}: libvirt did not start its domain ${domainName} (${(e as Error).message.split('\n')[0]})`);
      }
      // (not recorded: the domain is, and the sweep destroys it through libvirtd)
      const proc = processId(Number(readFileSync(join(LIBVIRT_QEMU_RUN, `${domainName}.pid`), 'utf8')));
      const vm = new LibvirtVm(spec, hypervisor, uri, domainName, domain, proc, fileServer, record);
      await vm.intoNamespace(mgmtTap, 'mnkvm0');
      await vm.intoNamespace(firstTap, 'tap1');
      await wireMgmt(spec.nsPid);
      return vm;
    } catch (e) {
      await run('virsh', ['-q', '-c', uri, 'destroy', domainName]);
      // its taps, where they are still libvirtd's (those moved go with the host's namespace)
      for (const tap of taps) await run('ip', ['link', 'del', tap]);
      if (fileServer) killIfSame(fileServer, 'SIGKILL');
      throw e;
    }
  }

  /** Move a tap QEMU holds from libvirtd's namespace into the host's, named there as the QEMU backend names its own. */
  private async intoNamespace(tap: string, name: string): Promise<void> {
    await runOk('ip', ['link', 'set', tap, 'netns', String(this.spec.nsPid)]);
    await nsBatch(this.spec.nsPid, 'ip', [`link set ${tap} name ${name}`]);
  }

  waitReady(timeoutMs: number): Promise<boolean> {
    return waitSerialReady(this.spec.dir, timeoutMs, () => this.alive());
  }

  agent(request: string): Promise<void> {
    this.guestAgent ??= new GuestAgent(join(this.spec.dir, 'ctl'));
    return this.guestAgent.request(request, this.spec.bootTimeout * 1000);
  }

  /**
   * Give the guest a NIC wired as nic says: a tap or a tunnel end takes the
   * NIC the domain started with while it is free, else a virtio NIC is
   * hot-plugged on a new tap; a VF is hot-plugged (virsh attach-device).
   */
  async attach(nic: NicAttachment): Promise<AttachedNic> {
    const { intf } = nic;
    if (this.nics.has(intf)) throw new MnkvmError(`${this.name}: ${intf} already has a NIC`);
    if (this.nics.size >= MAX_NICS) throw new MnkvmError(`${this.name}: no free PCIe slot for ${intf}: a KVM host has at most ${MAX_NICS} links`);
    const mac = await prepareFarEnd(this.name, this.spec.nsPid, nic, this.record);
    if (nic.kind !== 'vf' && this.firstNicFree) {
      this.firstNicFree = false;
      this.nics.set(intf, { nic, xml: tapInterfaceXml('tap1', FIRST_NIC.mac), tap: 'tap1' });
      await wireTap(this.spec.nsPid, 'tap1', intf);
      return { guestMac: FIRST_NIC.mac, mac };
    }
    const rootName = nic.kind === 'vf' ? null : await rootTap(this.record);
    const xml = nic.kind === 'vf' ? vfHostdevXml(nic.pci) : tapInterfaceXml(rootName!, mac);
    try {
      await this.virsh('attach-device', xml, `could not plug a NIC for ${intf}`);
    } catch (e) {
      if (rootName) await run('ip', ['link', 'del', rootName]);
      await removeFarEnd(this.spec.nsPid, nic);
      throw e;
    }
    const tap = rootName ? `tap${++this.taps}` : null;
    this.nics.set(intf, { nic, xml, tap });
    if (rootName && tap) {
      await this.intoNamespace(rootName, tap);
      await wireTap(this.spec.nsPid, tap, intf);
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
      const live = await run('virsh', ['-q', '-c', this.uri, 'dumpxml', this.domainName]);
      if (live.code !== 0 || !live.stdout.includes(marker)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const nsPid = this.spec.nsPid;
    if (plugged.nic.kind === 'tap') await nsBatch(nsPid, 'tc', [`qdisc del dev ${intf} ingress`]).catch(() => undefined);
    if (plugged.tap) await nsBatch(nsPid, 'ip', [`link del ${plugged.tap}`]).catch(() => undefined);
    await removeFarEnd(nsPid, plugged.nic);
  }

  /** Run one device change through virsh (@unraid/libvirt has no device calls), live only: the domain is transient. */
  private async virsh(command: 'attach-device' | 'detach-device', xml: string, what: string): Promise<void> {
    const file = join(this.spec.dir, `${command}.xml`);
    writeFileSync(file, xml);
    const r = await run('virsh', ['-q', '-c', this.uri, command, this.domainName, file, '--live']);
    if (r.code !== 0) throw new MnkvmError(`${this.name}: libvirt ${what} (${r.stderr.trim().split('\n').at(-1)})`);
  }

  pin(cores: number[]): Promise<void> {
    return pinThreads(this.name, this.proc.pid, cores);
  }

  /** Destroy the domain (libvirt forgets a transient one), then its taps in the namespace, file server and runtime folder. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.hypervisor.domainDestroy(this.domain).catch(() => undefined);
      this.guestAgent?.close();
      if (!(await waitGone(this.proc, 3000))) {
        killIfSame(this.proc, 'SIGKILL', false);
        await waitGone(this.proc, 2000);
      }
      // (taps made by mnkvm outlive QEMU: they go here, or with the namespace)
      const taps = new Set(['mnkvm0', 'tap1', ...[...this.nics.values()].flatMap((n) => (n.tap ? [n.tap] : []))]);
      await run('nsenter', ['-t', String(this.spec.nsPid), '-n', 'ip', '-force', '-batch', '-'], [...taps].map((t) => `link del ${t}`).join('\n') + '\n');
      if (this.fileServer) killIfSame(this.fileServer, 'SIGKILL', false);
      rmSync(this.spec.dir, { recursive: true, force: true });
    })();
    return this.stopped;
  }

  diagnostics(lines = 10): string[] {
    const text = lastLines([serialLog(this.spec.dir), join(LIBVIRT_QEMU_LOG, `${this.domainName}.log`)], lines);
    return [...text, ...(this.alive() ? [] : ['(QEMU has exited)'])];
  }

  alive(): boolean {
    return isAlive(this.proc);
  }
}

/** A new tap of libvirtd's namespace (this machine's root namespace), claimed and recorded before it exists. */
async function rootTap(record: RunRecord): Promise<string> {
  const name = `mkt${randomBytes(4).toString('hex')}`;
  record.claim('link', name);
  record.add({ kind: 'intf', name });
  await runOk('ip', ['tuntap', 'add', 'dev', name, 'mode', 'tap']);
  return name;
}

/** QEMU's path (libvirt's <emulator> takes no bare command name). */
function emulatorPath(): string {
  if (QEMU.includes('/')) return QEMU;
  try {
    return execFileSync('sh', ['-c', `command -v ${QEMU}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new MnkvmError(`${QEMU} is not installed: run ./setup.sh`);
  }
}
