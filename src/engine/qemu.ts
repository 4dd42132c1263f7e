// QemuVm: one QEMU process per KVM host, started inside the host's
// network namespace and driven over QMP. NICs are hot-plugged into
// pre-created PCIe root ports and wired to the namespace's veth with tc
// mirred redirects both ways (the Kata Containers model).
import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { QEMU, type Accel } from './accel.js';
import { GuestAgent } from './agent.js';
import { MnkvmError } from './errors.js';
import type { GuestImage } from './image.js';
import { isAlive, killIfSame, nsBatch, processId, runOk, waitGone, type ProcessId } from './proc.js';
import { QmpClient, type QmpEvent } from './qmp.js';
import type { RunRecord } from './records.js';

export interface VmOptions {
  mem: number;          // MiB
  cpus: number;
  accel: Accel;         // resolved (accel.ts)
  share: string | null; // a folder of the machine the guest mounts at the same path
  bootTimeout: number;  // seconds
}

/**
 * How a VM starts: a cold boot; a boot that becomes a template (its RAM in a
 * new file, shared, so that a migration with x-ignore-shared saves only the
 * device state); or a clone restored from a template (the template's RAM
 * file mapped copy-on-write, the device state migrated in).
 */
export type Boot =
  | { kind: 'cold' }
  | { kind: 'template'; ram: string }
  | { kind: 'clone'; ram: string; state: string };

export interface VmSpec extends VmOptions {
  name: string;
  nsPid: number | null; // the pid whose network namespace the VM lives in (null: a new one of its own)
  dir: string;          // runtime folder: sockets, logs
  image: GuestImage;
  boot: Boot;
}

/** Root ports for NICs: this many links per KVM host. */
export const MAX_NICS = 8;
/**
 * The NIC every guest starts with (in root port 1; the template has it, so
 * clones do too): the first link takes it over, with its own MAC and name.
 */
export const FIRST_NIC = { port: 1, mac: '52:54:00:00:01:01' };
/** The management link (SSH for popen) is private to each namespace, so every VM uses the same addresses. */
export const MGMT = { mac: '52:54:00:00:00:01', host: '169.254.0.1', guest: '169.254.0.2', prefix: 30 };
/** OpenSSH's SFTP server: it serves the shared folder to the guest's sshfs over a virtio port. */
export const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

export class QemuVm {
  readonly consolePath: string;
  private readonly nics = new Map<string, number>();   // intf name -> root port
  private firstNicFree = true;                          // FIRST_NIC is not given to an intf yet
  private readonly releasing = new Set<number>();       // root ports whose NIC the guest has not released yet
  private guestAgent: GuestAgent | null = null;
  private constructor(
    readonly spec: VmSpec, readonly proc: ProcessId, private readonly qmp: QmpClient,
    private readonly fileServer: ProcessId | null,
  ) {
    this.consolePath = join(spec.dir, 'console.sock');
    // An unplugged NIC leaves its root port when the guest lets go of it (Linux's
    // pciehp waits 5 s after the attention button): only then can the port take another.
    qmp.on('event', (e: QmpEvent) => {
      const port = e.event === 'DEVICE_DELETED' ? /^nic(\d+)$/.exec(String(e.data?.device ?? ''))?.[1] : undefined;
      if (port) this.releasing.delete(Number(port));
    });
  }

  /** Start QEMU paused (the caller connects the console, then resume()s). */
  static async start(spec: VmSpec, record: RunRecord): Promise<QemuVm> {
    rmSync(spec.dir, { recursive: true, force: true });
    mkdirSync(spec.dir, { recursive: true });
    // The FIFO pairs of QEMU's pipe chardevs: the agent's port, and the shared folder's.
    await runOk('mkfifo', ['ctl', ...(spec.share ? ['share'] : [])].flatMap((f) => [`${f}.in`, `${f}.out`]).map((f) => join(spec.dir, f)));
    const fileServer = spec.share ? await startFileServer(spec, record) : null;
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
    const child = spawn(netns[0], [...netns.slice(1), QEMU, ...qemuArgs(spec, spec.accel)],
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
      const deadline = Date.now() + 15_000;
      while (!qmp) {
        if (!isAlive(proc)) throw failure();
        if (Date.now() > deadline) throw new MnkvmError(`${spec.name}: QEMU did not answer on its QMP socket within 15 s`);
        qmp = existsSync(qmpPath) ? await QmpClient.open(qmpPath).catch(() => undefined) : undefined;
        if (!qmp) await new Promise((r) => setTimeout(r, 10));
      }
      // The namespace side of the management link (IPv6 off so that no
      // namespace-side interface ever sends traffic of its own), while a
      // clone loads its device state.
      const mgmt = spec.nsPid === null ? null : runOk('nsenter', ['-t', String(spec.nsPid), '-n', 'sh', '-c',
        'sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 && ' +
        `ip addr add ${MGMT.host}/${MGMT.prefix} dev mnkvm0 && ip link set mnkvm0 up`]);
      const vm = new QemuVm(spec, proc, qmp, fileServer);
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
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { status, 'error-desc': error } = (await this.qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
      if (status === 'completed') return;
      if (status === 'failed' || status === 'cancelled') throw new Error(`${command} ${status}${error ? `: ${error}` : ''}`);
      if (Date.now() > deadline) throw new Error(`${command} did not complete within 60 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Wait (at most timeoutMs) until the guest's init says it is ready on the serial console; false if it did not, or QEMU exited. */
  async waitReady(timeoutMs: number): Promise<boolean> {
    const serial = join(this.spec.dir, 'serial.log');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.alive()) {
      if (existsSync(serial) && readFileSync(serial, 'utf8').includes('mnkvm-guest: ready')) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  /** Ask the guest's mnkvm-agent (see agent.ts) for one thing: identity, nic or mount. */
  agent(request: string): Promise<void> {
    this.guestAgent ??= new GuestAgent(join(this.spec.dir, 'ctl'));
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
   * Give the guest a virtio NIC wired to the namespace interface intf: the
   * NIC plugged in at start if it is still free (under TCG a PCIe hot-plug
   * costs the guest ~0.3 s of CPU), else a hot-plugged one. Returns the
   * NIC's MAC in the guest now, and the MAC it must carry, intf's own:
   * Mininet chose it (Mininet.addLink gives every veth a MAC) and reports it.
   */
  async attachNic(intf: string): Promise<{ guestMac: string; mac: string }> {
    const used = new Set([...this.nics.values(), ...this.releasing]);
    let port = 1;
    while (used.has(port)) port++;
    if (port > MAX_NICS) {
      throw new MnkvmError(this.releasing.size
        ? `${this.spec.name}: no free PCIe slot for ${intf}: the guest is still releasing a removed link's NIC: try again in a few seconds`
        : `${this.spec.name}: no free PCIe slot for ${intf}: a KVM host has at most ${MAX_NICS} links`);
    }
    const nsPid = this.spec.nsPid;
    if (nsPid === null) throw new MnkvmError(`${this.spec.name}: a VM without a host namespace has no links`);
    // (sysfs would show the root namespace: ask ip inside the namespace)
    const link = await runOk('nsenter', ['-t', String(nsPid), '-n', 'ip', '-o', 'link', 'show', 'dev', intf]);
    const mac = /link\/ether ([0-9a-f:]{17})/.exec(link)?.[1];
    if (!mac) throw new MnkvmError(`${this.spec.name}: ${intf} has no MAC address in its namespace`);
    let guestMac = mac;
    if (port === FIRST_NIC.port && this.firstNicFree) {
      this.firstNicFree = false;
      guestMac = FIRST_NIC.mac;
    } else {
      try {
        await this.qmp.execute('netdev_add', nicNetdev(port, this.spec.accel));
        await this.qmp.execute('device_add', { driver: 'virtio-net-pci', id: `nic${port}`, netdev: `net${port}`, mac, bus: `rp${port}` });
      } catch (e) {
        await this.qmp.execute('netdev_del', { id: `net${port}` }).catch(() => undefined);
        throw new MnkvmError(`${this.spec.name}: QEMU could not plug a NIC for ${intf} (${(e as Error).message})`);
      }
    }
    this.nics.set(intf, port);
    const tap = `tap${port}`;
    const wire = (from: string, to: string) => [
      `qdisc add dev ${from} ingress`,
      `filter add dev ${from} parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ${to}`,
    ];
    await nsBatch(nsPid, 'ip', [`link set ${tap} up`, `link set ${intf} up`]);
    await nsBatch(nsPid, 'tc', [...wire(intf, tap), ...wire(tap, intf)]);
    return { guestMac, mac };
  }

  /** Unplug the NIC of intf (the guest releases it in the background). */
  async detachNic(intf: string): Promise<void> {
    const port = this.nics.get(intf);
    if (port === undefined) return;
    this.nics.delete(intf);
    this.releasing.add(port);
    await this.qmp.execute('device_del', { id: `nic${port}` }).catch(() => this.releasing.delete(port));
    await this.qmp.execute('netdev_del', { id: `net${port}` }).catch(() => undefined);
  }

  /** Stop QEMU: quit over QMP, SIGKILL if it lingers. */
  async stop(): Promise<void> {
    await Promise.race([this.qmp.execute('quit').catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
    this.qmp.close();
    this.guestAgent?.close();
    if (!(await waitGone(this.proc, 2000))) {
      killIfSame(this.proc, 'SIGKILL', true);
      await waitGone(this.proc, 2000);
    }
    if (this.fileServer) killIfSame(this.fileServer, 'SIGKILL', false);
    rmSync(this.spec.dir, { recursive: true, force: true });
  }

  /** The last lines the guest and QEMU printed, and whether QEMU has exited, for error messages. */
  diagnostics(lines = 10): string[] {
    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    const text = read(join(this.spec.dir, 'serial.log')) + read(join(this.spec.dir, 'qemu.log'));
    return [...text.replace(/\r/g, '').split('\n').filter((l) => l.trim()).slice(-lines), ...(this.alive() ? [] : ['(QEMU has exited)'])];
  }

  alive(): boolean {
    return isAlive(this.proc);
  }
}

/**
 * The SFTP server of the guest's shared folder, on the FIFO pair of QEMU's
 * pipe chardev (QEMU reads share.in, writes share.out). Both ends are
 * opened read-write so that neither open blocks nor sees an early EOF.
 */
async function startFileServer(spec: VmSpec, record: RunRecord): Promise<ProcessId> {
  if (!existsSync(SFTP_SERVER)) throw new MnkvmError(`${SFTP_SERVER} is missing (for share=): run ./setup.sh, or use share=none`);
  const fifo = join(spec.dir, 'share');
  const fromGuest = openSync(`${fifo}.out`, 'r+');
  const toGuest = openSync(`${fifo}.in`, 'r+');
  // A clone's sshfs mounted the folder in the template: its SFTP session is
  // past the handshake, which this new server must also be. Say its INIT
  // (SFTP version 3) here and take the VERSION answer off before QEMU runs.
  if (spec.boot.kind === 'clone') writeSync(fromGuest, SFTP_INIT);
  const server = spawn(SFTP_SERVER, ['-l', 'QUIET'], { detached: true, stdio: [fromGuest, toGuest, 'ignore'] });
  closeSync(fromGuest);
  closeSync(toGuest);
  server.unref();
  if (server.pid === undefined) throw new MnkvmError(`${spec.name}: ${SFTP_SERVER} could not be started`);
  const proc = processId(server.pid);
  record.add({ kind: 'process', name: `${spec.name}-sftp`, proc });
  if (spec.boot.kind === 'clone') {
    await readPacket(`${fifo}.in`, 5000).catch((e: Error) => {
      killIfSame(proc, 'SIGKILL');
      throw new MnkvmError(`${spec.name}: ${SFTP_SERVER} did not answer (${e.message})`);
    });
  }
  return proc;
}

/** SSH_FXP_INIT, version 3: length 5, type 1, version 3. */
const SFTP_INIT = Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]);

/** Read one length-prefixed SFTP packet from a FIFO. */
function readPacket(path: string, timeoutMs: number): Promise<Buffer> {
  const socket = new Socket({ fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
  let data = Buffer.alloc(0);
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 4 && data.length >= 4 + data.readUInt32BE(0)) {
        clearTimeout(timer);
        resolve(data);
      }
    });
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
  }).finally(() => socket.destroy());
}

/** Guest RAM: anonymous for a cold boot, else the template's file (shared while it is made, copy-on-write in clones). */
function memoryArgs({ mem, boot }: VmSpec): string[] {
  if (boot.kind === 'cold') return ['-m', String(mem)];
  const backend = `memory-backend-file,id=ram0,size=${mem}M,mem-path=${boot.ram},share=${boot.kind === 'template' ? 'on' : 'off'}`;
  return ['-m', String(mem), '-object', backend, '-machine', 'memory-backend=ram0',
    ...(boot.kind === 'clone' ? ['-incoming', 'defer'] : [])];
}

/** The tap backend of the NIC in root port `port` (tapN in the namespace; vhost-net where KVM runs the guest). */
function nicNetdev(port: number, accel: Accel): Record<string, string | boolean> {
  return {
    type: 'tap', id: `net${port}`, ifname: `tap${port}`, script: 'no', downscript: 'no',
    ...(accel === 'kvm' && existsSync('/dev/vhost-net') ? { vhost: true } : {}),
  };
}

/** The QEMU command line of a KVM host. */
export function qemuArgs(spec: VmSpec, accel: Accel): string[] {
  const { dir, image } = spec;
  const append = [
    'console=ttyS0', 'quiet', 'panic=-1', 'mitigations=off', 'random.trust_cpu=on',
    `mnkvm.mgmt=${MGMT.guest}/${MGMT.prefix}`,
    // TCG looks translated code up by virtual address: with the libraries of
    // every process at the same place, each exec of ip, tc or ifconfig reuses
    // the code earlier ones had translated (3x faster commands in the guest).
    ...(accel === 'tcg' ? ['norandmaps'] : []),
  ];
  const share = spec.share ? [
    '-chardev', `pipe,id=share,path=${join(dir, 'share')}`,
    '-device', 'virtserialport,chardev=share,name=mnkvm.share,bus=vser0.0',
  ] : [];
  const rootPorts = Array.from({ length: MAX_NICS }, (_, i) =>
    ['-device', `pcie-root-port,id=rp${i + 1},bus=pcie.0,chassis=${i + 1},addr=${(0x10 + i).toString(16)}.0`]).flat();
  const { type, ...tap } = nicNetdev(FIRST_NIC.port, accel);
  const firstNic = [
    '-netdev', [type, ...Object.entries(tap).map(([k, v]) => `${k}=${v === true ? 'on' : v}`)].join(','),
    '-device', `virtio-net-pci,id=nic${FIRST_NIC.port},netdev=net${FIRST_NIC.port},mac=${FIRST_NIC.mac},bus=rp${FIRST_NIC.port}`,
  ];
  return [
    '-name', `${spec.name},process=mnkvm:${spec.name}`,
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-S',
    // TCG's translation cache defaults to 1 GiB; 64 MiB is plenty for a small guest.
    '-machine', 'q35', '-accel', accel === 'kvm' ? 'kvm' : 'tcg,tb-size=64', '-cpu', accel === 'kvm' ? 'host' : 'max',
    ...memoryArgs(spec),
    '-smp', String(spec.cpus),
    '-kernel', image.kernel, '-initrd', image.initramfs, '-append', append.join(' '),
    '-serial', `file:${join(dir, 'serial.log')}`,
    '-device', 'virtio-serial-pci,id=vser0',
    '-chardev', `socket,id=con0,path=${join(dir, 'console.sock')},server=on,wait=off`,
    '-device', 'virtconsole,chardev=con0,bus=vser0.0',
    '-chardev', `pipe,id=ctl,path=${join(dir, 'ctl')}`,
    '-device', 'virtserialport,chardev=ctl,name=mnkvm.ctl,bus=vser0.0',
    ...share,
    '-netdev', 'tap,id=mgmt,ifname=mnkvm0,script=no,downscript=no',
    '-device', `virtio-net-pci,netdev=mgmt,mac=${MGMT.mac}`,
    '-object', 'rng-random,id=rng0,filename=/dev/urandom', '-device', 'virtio-rng-pci,rng=rng0',
    ...rootPorts, ...firstNic,
    '-qmp', `unix:${join(dir, 'qmp.sock')},server=on,wait=off`,
    '-pidfile', join(dir, 'qemu.pid'),
  ];
}
