// The virtual testbed (`mnkvm testbed up|status|ssh|inventory|down`):
// servers tb1, tb2, ... as QEMU VMs on this machine, each a Debian 12 with
// an emulated IOMMU and SR-IOV NICs (server.ts), booted in parallel from a
// copy-on-write overlay of the image guest/build-testbed-image.sh builds.
// Its resources are a run record that outlives the command (`run-testbed`):
// `mnkvm testbed down`, or `mnkvm -c`, sweeps it.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { MnkvmError } from '../engine/errors.js';
import { CACHE_ROOT, PROJECT_ROOT } from '../engine/paths.js';
import { isAlive, processId, run, runOk, type ProcessId } from '../engine/proc.js';
import { QEMU, qemuVersion, resolveAccel } from '../engine/guest/accel.js';
import { RunRecord } from '../engine/records.js';
import { describeSweep } from '../engine/sweep.js';
import { ERRORS_ONLY, FRESH_HOST_KEY, SERVER_KEEPALIVE, sshArgs, UNATTENDED } from '../engine/ssh.js';
import type { ServerSpec } from '../cluster/servers.js';
import { renderInventory } from './inventory.js';
import { dataAddress, pfAddress, pfMac, serverArgs, type Cable } from './server.js';

/** The testbed's options: default, least, most (one definition for the CLI's help and checks). */
export const TESTBED_OPTIONS = {
  servers: { default: 2, least: 1, most: 8, help: 'servers (tb1, tb2, ...)' },
  pfs: { default: 1, least: 1, most: 4, help: 'SR-IOV NICs (physical functions, igb) per server' },
  vfs: { default: 7, least: 0, most: 7, help: 'VFs the inventory asks of each PF (igb has 7)' },
  mem: { default: 2048, least: 1024, most: 65536, help: 'memory per server, MiB' },
  cpus: { default: 2, least: 1, most: 16, help: 'virtual CPUs per server' },
  sshPort: { default: 2221, least: 1024, most: 64000, help: "tb1's SSH port on 127.0.0.1 (tb2 the next, ...); cables use UDP ports from this + 100" },
  bootTimeout: { default: 600, least: 1, most: 3600, help: 'seconds to wait for each server to answer SSH' },
} as const;

export type TestbedOptions = { -readonly [K in keyof typeof TESTBED_OPTIONS]: number };

const RECORD = 'testbed';
const IMAGE = join(CACHE_ROOT, 'testbed', 'server');
const IMAGE_BUILD = join(PROJECT_ROOT, 'guest', 'build-testbed-image.sh');
/** Servers' disks (overlays that grow as Ansible installs things): on disk, not in /run's tmpfs. */
const DISKS = process.env.MNKVM_TESTBED_DISKS ?? '/var/tmp/mnkvm/testbed';

interface ServerState { name: string; sshPort: number; proc: ProcessId; data: string; pfs: { pci: string; mac: string; cable: Cable }[] }
interface TestbedState { servers: ServerState[]; key: string; vfs: number; accel: 'kvm' | 'tcg'; mem: number; cpus: number }

/** Each option's value, checked against its bounds; one line for a bad one. */
export function testbedOptions(given: Partial<Record<keyof TestbedOptions, string | number>>): TestbedOptions {
  const options = {} as TestbedOptions;
  for (const [name, rule] of Object.entries(TESTBED_OPTIONS) as [keyof TestbedOptions, (typeof TESTBED_OPTIONS)[keyof TestbedOptions]][]) {
    const raw = given[name] ?? rule.default;
    const value = typeof raw === 'number' ? raw : /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < rule.least || value > rule.most) {
      throw new MnkvmError(`testbed --${flag(name)} ${raw}: must be a whole number from ${rule.least} to ${rule.most}`);
    }
    options[name] = value;
  }
  return options;
}

/** sshPort -> ssh-port */
export function flag(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The cables: PF p of tb(2k+1) and of tb(2k+2) are cabled to each other; an odd last server's PFs to nothing. */
export function cables(o: Pick<TestbedOptions, 'servers' | 'pfs' | 'sshPort'>): Cable[][] {
  const port = (s: number, p: number) => o.sshPort + 100 + s * 8 + p;
  return Array.from({ length: o.servers }, (_, s) => Array.from({ length: o.pfs }, (__, p) => {
    const peer = s % 2 === 0 ? s + 1 : s - 1;
    // no peer: the datagrams go to a port of its own range that nothing listens on
    return { port: port(s, p), peerPort: peer < o.servers ? port(peer, p) : port(s, p) + 4 };
  }));
}

/** Bring a testbed up: every server answers SSH when this returns. log: progress lines. */
export async function testbedUp(o: TestbedOptions, log: (line: string) => void): Promise<void> {
  if (RunRecord.lasting(RECORD)) throw new MnkvmError('a virtual testbed is already up (`mnkvm testbed status` shows it): take it down first with `mnkvm testbed down`');
  // the record first: of two ups at once, one has it, the other says so
  const record = RunRecord.createLasting(RECORD);
  if (!record) throw new MnkvmError('a virtual testbed is already coming up (`mnkvm testbed status` shows it): take it down first with `mnkvm testbed down`');
  try {
    checkQemu();
    checkMemory(o);
    const wiring = cables(o);
    await checkPorts(o, wiring);
    const build = spawnSync('bash', [IMAGE_BUILD], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (build.status !== 0) throw new MnkvmError(`the testbed server image could not be built (${IMAGE_BUILD} exit ${build.status ?? build.signal})`);
    const accel = resolveAccel('auto');
    const key = join(record.dir, 'id_ed25519');
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mnkvm-testbed', '-f', key]);
    mkdirSync(DISKS, { recursive: true });
    log(`*** testbed: starting ${o.servers} server${o.servers === 1 ? '' : 's'} (${accel === 'tcg' ? 'TCG emulation: slow, timings mean nothing' : 'KVM'})`);
    const servers: ServerState[] = [];
    for (let s = 0; s < o.servers; s++) {
      const name = `tb${s + 1}`;
      const dir = join(record.dir, name);
      mkdirSync(dir);
      const disk = join(DISKS, `${name}.qcow2`);
      record.add({ kind: 'file', path: disk });
      await runOk('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(IMAGE, 'disk.img'), '-F', 'raw', disk]);
      const args = serverArgs({ name, dir, disk, mem: o.mem, cpus: o.cpus, accel, sshPort: o.sshPort + s,
        authorizedKeys: `${key}.pub`, share: PROJECT_ROOT.replace(/\/$/, ''), pfs: wiring[s] }, s);
      const out = openSync(join(dir, 'qemu.log'), 'w');
      // detached: its own process group (the sweep kills the group), out of reach of Ctrl-C
      const child = spawn(QEMU, args, { detached: true, stdio: ['ignore', out, out] });
      closeSync(out);
      child.unref();
      if (child.pid === undefined) throw new MnkvmError(`${name}: ${QEMU} could not be started`);
      const proc = processId(child.pid);
      record.add({ kind: 'vm', name, proc });
      servers.push({ name, sshPort: o.sshPort + s, proc, data: dataAddress(s),
        pfs: wiring[s].map((cable, p) => ({ pci: pfAddress(p), mac: pfMac(s, p), cable })) });
    }
    const state: TestbedState = { servers, key, vfs: o.vfs, accel, mem: o.mem, cpus: o.cpus };
    writeFileSync(join(record.dir, 'testbed.json'), JSON.stringify(state, null, 2));
    const start = Date.now();
    await Promise.all(servers.map(async (server) => {
      await waitForSsh(state, server, join(record.dir, server.name), o.bootTimeout * 1000);
      log(`*** testbed: ${server.name} answers on 127.0.0.1:${server.sshPort} (${((Date.now() - start) / 1000).toFixed(0)} s)`);
    }));
  } catch (e) {
    await record.sweep();
    throw e;
  }
}

/** Wait until server answers SSH; one line with its last console lines where it does not. */
async function waitForSsh(state: TestbedState, server: ServerState, dir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(server.proc)) throw new MnkvmError(`${server.name}: QEMU exited: ${lastLines(dir).join(' | ') || '(no output)'}`);
    if ((await sshRun(state, server, ['true'], 5)).code === 0) return;
    if (Date.now() > deadline) {
      throw new MnkvmError(`${server.name} did not answer SSH within ${timeoutMs / 1000} s: raise --boot-timeout; last console lines:\n${lastLines(dir).join('\n') || '(none)'}`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function lastLines(dir: string, n = 10): string[] {
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  // eslint-disable-next-line no-control-regex
  return (read('serial.log') + read('qemu.log')).replace(/\r|\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim()).slice(-n);
}

/** ssh's options for a server of this testbed (its key; its host key changes with every testbed). */
function serverSshArgs(state: TestbedState, server: ServerState, connectTimeout = 10): string[] {
  return ['-i', state.key, '-p', String(server.sshPort),
    ...sshArgs({ ...FRESH_HOST_KEY, ...ERRORS_ONLY, ...UNATTENDED, ConnectTimeout: String(connectTimeout) }), 'root@127.0.0.1'];
}

function sshRun(state: TestbedState, server: ServerState, command: string[], connectTimeout: number) {
  return run('ssh', [...serverSshArgs(state, server, connectTimeout), ...command]);
}

/** The testbed that is up, or null. */
function up(): { record: RunRecord; state: TestbedState } | null {
  const record = RunRecord.lasting(RECORD);
  const path = record ? join(record.dir, 'testbed.json') : '';
  if (!record || !existsSync(path)) return null;
  return { record, state: JSON.parse(readFileSync(path, 'utf8')) as TestbedState };
}

function current(): { record: RunRecord; state: TestbedState } {
  const testbed = up();
  if (!testbed) throw new MnkvmError('no virtual testbed is up: start one with `mnkvm testbed up`');
  return testbed;
}

function server(state: TestbedState, name: string): ServerState {
  const found = state.servers.find((s) => s.name === name);
  if (!found) throw new MnkvmError(`no testbed server named ${name}: the testbed has ${state.servers.map((s) => s.name).join(', ')}`);
  return found;
}

/** A server of the testbed that is up, as `--servers` names it (tb1, ...); null if none is up or has that name. */
export function testbedServer(name: string): ServerSpec | null {
  const state = up()?.state;
  const s = state?.servers.find((x) => x.name === name);
  return state && s ? { name, host: '127.0.0.1', port: s.sshPort, user: 'root', key: state.key, data: s.data, testbed: true } : null;
}

/** Is a virtual testbed up? */
export function testbedIsUp(): boolean {
  return RunRecord.lasting(RECORD) !== null;
}

/** Run a command on a server (or log in, with none); returns its exit code. */
export function testbedSsh(name: string, command: string[]): number {
  const { state } = current();
  const r = spawnSync('ssh', [...(command.length ? [] : ['-t']), ...serverSshArgs(state, server(state, name)), ...command], { stdio: 'inherit' });
  return r.status ?? 255;
}

/** A line per server: name, state, SSH address, PFs. */
export function testbedStatus(): string[] {
  const { state } = current();
  return [`virtual testbed: ${state.servers.length} servers, ${state.mem} MiB and ${state.cpus} CPUs each, ${state.accel.toUpperCase()}`,
    ...state.servers.map((s) => `${s.name}  ${isAlive(s.proc) ? 'running' : 'stopped'}  ssh 127.0.0.1:${s.sshPort}  ` +
      `PFs ${s.pfs.map((p) => `${p.pci} (cable udp ${p.cable.port}->${p.cable.peerPort})`).join(', ')}  data ${s.data}`)];
}

/**
 * An Ansible inventory (INI) of the testbed's servers: the emulated IOMMU
 * is Intel's whatever the CPU; the last core measures; 128 hugepages (a tuned KVM host of mem=256, tune=latency).
 */
export function testbedInventory(): string {
  const { state } = current();
  return renderInventory({
    servers: state.servers.map((s) => ({
      name: s.name, address: '127.0.0.1', port: s.sshPort, iommu: 'intel',
      cores: state.cpus > 1 ? [state.cpus - 1] : [], hugepages: 128, pfs: s.pfs.map((p) => ({ pci: p.pci, vfs: state.vfs })),
    })),
    user: 'root', key: state.key,
    // keep-alives: QEMU's user network does not reset a connection that a server's reboot cut
    sshArgs: sshArgs({ ...FRESH_HOST_KEY, ...SERVER_KEEPALIVE }).join(' '),
  }, 'the virtual testbed (mnkvm testbed inventory)');
}

/** Take the testbed down: its VMs, disks and record; returns what was removed. */
export async function testbedDown(): Promise<string> {
  const record = RunRecord.lasting(RECORD);
  if (!record) throw new MnkvmError('no virtual testbed is up: nothing to take down');
  return describeSweep(await record.sweep());
}

/** The testbed's NICs are QEMU's igb (QEMU 8.0 and later). */
function checkQemu(): void {
  const version = qemuVersion();
  const major = Number(/version (\d+)\./.exec(version)?.[1] ?? 0);
  if (major < 8) throw new MnkvmError(`${version} has no igb NIC (SR-IOV), which the testbed needs: run ./setup.sh (QEMU 10 from bookworm-backports)`);
}

/** Is there memory for the servers (with 1 GiB to spare for this machine)? */
function checkMemory(o: TestbedOptions): void {
  const available = Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024;
  const needed = o.servers * o.mem + 1024;
  if (available < needed) {
    throw new MnkvmError(`not enough memory for ${o.servers} testbed servers of ${o.mem} MiB: they need ${needed} MiB with 1024 to spare, ` +
      `${Math.floor(available)} MiB are available: use fewer --servers or less --mem`);
  }
}

/** Are the SSH (TCP) and cable (UDP) ports free on 127.0.0.1? */
async function checkPorts(o: TestbedOptions, wiring: Cable[][]): Promise<void> {
  for (let s = 0; s < o.servers; s++) {
    const port = o.sshPort + s;
    if (!(await tcpFree(port))) throw new MnkvmError(`port ${port} on 127.0.0.1 is taken (tb${s + 1}'s SSH): pass --ssh-port with a free range`);
    for (const cable of wiring[s]) {
      if (!(await udpFree(cable.port))) throw new MnkvmError(`UDP port ${cable.port} on 127.0.0.1 is taken (a tb${s + 1} cable): pass --ssh-port with a free range`);
    }
  }
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createSocket('udp4');
    probe.once('error', () => { probe.close(); resolve(false); });
    probe.bind(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
