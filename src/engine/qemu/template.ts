// Snapshot templates: for each (guest image, memory, CPUs, accelerator,
// shared folder, QEMU) one guest is booted once, up to its shell, and saved: its
// RAM in a file on tmpfs, its device state in a migration stream. Every KVM
// host then starts as a clone of it (see Boot in args.ts): ~0.2 s under TCG
// instead of a ~3 s boot, and the clones share the template's RAM pages.
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Boot, VmSpec } from './args.js';
import { QemuVm } from './vm.js';
import { bootTimedOut } from '../backend.js';
import { qemuVersion, type Accel } from '../guest/accel.js';
import type { GuestImage } from '../image.js';
import { TEMPLATES_DIR } from '../paths.js';
import { startTime } from '../proc.js';
import type { RunRecord } from '../records.js';

/** What a template depends on besides its image. */
type VmOptions = Pick<VmSpec, 'mem' | 'cpus' | 'accel' | 'share' | 'bootTimeout'>;

/** Bump when what a template holds changes in a way its key does not show (e.g. guest/init's protocol). */
const FORMAT = 3;

interface Manifest { key: string; format: number; image: string; imageKey: string; qemu: string; accel: Accel; built: string }

/** made: by this call (not found made before). */
export interface Template { key: string; boot: Extract<Boot, { kind: 'clone' }>; made: boolean }

/** What a template is made for: guests with these (one run keeps one template per value). */
export function templateFor(image: GuestImage, opts: VmOptions): string {
  return JSON.stringify({ image: image.key, mem: opts.mem, cpus: opts.cpus, accel: opts.accel, share: opts.share });
}

/** The template key: everything the saved guest depends on. */
function templateKey(image: GuestImage, opts: VmOptions): string {
  const inputs = [FORMAT, templateFor(image, opts), qemuVersion()];
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

/**
 * The template for these options, made now if it does not exist. Two runs
 * making the same template at once each build in a folder of their own and
 * rename it into place: the first rename wins, the other run uses it.
 */
export async function ensureTemplate(image: GuestImage, opts: VmOptions, record: RunRecord): Promise<Template> {
  const key = templateKey(image, opts);
  const dir = join(TEMPLATES_DIR, key);
  const made = !existsSync(join(dir, 'manifest.json'));
  if (made) {
    mkdirSync(TEMPLATES_DIR, { recursive: true });
    checkSpace(opts.mem);
    const build = join(TEMPLATES_DIR, `.build-${process.pid}-${key}`);
    rmSync(build, { recursive: true, force: true });
    mkdirSync(build);
    try {
      await saveGuest(build, image, opts, record);
      const manifest: Manifest = { key, format: FORMAT, image: image.dir, imageKey: image.key, qemu: qemuVersion(), accel: opts.accel, built: new Date().toISOString() };
      writeFileSync(join(build, 'manifest.json'), JSON.stringify(manifest));
      try {
        renameSync(build, dir);
      } catch {
        // another run put the same template in place first
      }
    } finally {
      rmSync(build, { recursive: true, force: true });
    }
  }
  return { key, boot: { kind: 'clone', ram: join(dir, 'ram'), state: join(dir, 'state') }, made };
}

/**
 * A template's RAM file can grow to the guest's memory; a tmpfs that fills
 * up stalls the guest until its boot times out. Say so before booting.
 */
function checkSpace(memMiB: number): void {
  const fs = statfsSync(TEMPLATES_DIR);
  const freeMiB = Math.floor((fs.bavail * fs.bsize) / 2 ** 20);
  const neededMiB = memMiB + 16;   // the RAM file, and the device state beside it
  if (freeMiB < neededMiB) {
    throw new Error(`not enough space in ${TEMPLATES_DIR} for a template: it needs ${neededMiB} MiB, ${freeMiB} MiB are free`);
  }
}

/** Boot a guest in a network namespace of its own, wait for its shell, save it into dir. */
async function saveGuest(dir: string, image: GuestImage, opts: VmOptions, record: RunRecord): Promise<void> {
  const vm = await QemuVm.start({ ...opts, name: 'template', nsPid: null, dir: join(dir, 'vm'), image, layout: null,
    boot: { kind: 'template', ram: join(dir, 'ram') } }, record);
  try {
    await vm.resume();
    await waitForPrompt(vm.console, opts.bootTimeout);
    // Clones keep the template's mount; their file server is started past the SFTP handshake (guest/fileserver.ts).
    if (opts.share) await vm.agent(`mount ${opts.share}`);
    await vm.pause();
    await vm.migrate('migrate', `exec:cat > ${join(dir, 'state')}`);
  } finally {
    await vm.stop();
  }
}

/** Read the guest console until the shell's first prompt (\x7f). */
function waitForPrompt(consolePath: string, timeoutS: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(consolePath);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`the template guest ${bootTimedOut(timeoutS)}`)); }, timeoutS * 1000);
    socket.on('data', (chunk: Buffer) => {
      if (!chunk.includes(0x7f)) return;
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
    // (QEMU has exited: the guest ended before its shell, as init does where an image's disk does not mount)
    socket.once('close', () => { clearTimeout(timer); reject(new Error('the template guest ended before its shell')); });
  });
}

/**
 * `mnkvm -c`: remove templates no run can use any more (their image is gone,
 * or their QEMU changed) and half-built ones whose run has ended.
 */
export async function removeStaleTemplates(): Promise<string[]> {
  if (!existsSync(TEMPLATES_DIR)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(TEMPLATES_DIR)) {
    const dir = join(TEMPLATES_DIR, name);
    const building = /^\.build-(\d+)-/.exec(name);
    let stale: boolean;
    if (building) {
      stale = startTime(Number(building[1])) === null;
    } else {
      const manifestPath = join(dir, 'manifest.json');
      const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest : null;
      stale = !manifest || !(await isCurrent(manifest));
    }
    if (stale) {
      rmSync(dir, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

/** Is this template's image still there, unchanged, and QEMU the same? */
async function isCurrent(manifest: Manifest): Promise<boolean> {
  if (manifest.format !== FORMAT) return false;   // no run makes this key any more
  const imageManifest = join(manifest.image, 'manifest.json');
  if (!existsSync(imageManifest)) return false;
  const { key } = JSON.parse(readFileSync(imageManifest, 'utf8')) as { key: string };
  return key === manifest.imageKey && manifest.qemu === qemuVersion();
}
