// Guest images: the default, a kernel and an initramfs built by
// guest/build-image.sh; and images a KVM host runs in, a root filesystem on
// a disk (guest/import-image.sh: a container image; --debian: Debian
// packages), booted with the default's kernel and initramfs.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { MnkvmError } from './errors.js';
import { GUEST_CACHE, GUEST_IMPORT, IMAGES_DIR } from './paths.js';
import type { Runner } from './proc.js';

export interface GuestImage {
  name: string;
  dir: string;
  kernel: string;
  initramfs: string;
  sshKey: string;
  /** What the image's guests boot from, all of it: the default image's key, and the root filesystem's where there is one. */
  key: string;
  /** The image's root filesystem (an ext4 disk every guest of it shares, read-only), or null: the default's initramfs is the root. */
  rootfs: string | null;
}

type Manifest = { kernel: string; initramfs: string; sshKey: string; key: string; kind?: undefined }
  | { kind: 'rootfs'; rootfs: string; key: string };

const imageDir = (nameOrPath: string): string => (isAbsolute(nameOrPath) || nameOrPath.startsWith('.') ? nameOrPath : join(IMAGES_DIR, nameOrPath));

function missing(nameOrPath: string, manifest: string, where = ''): MnkvmError {
  const fix = nameOrPath === 'default' ? `build it with \`mnkvm image build\`${where ? ' there (ansible-playbook site.yml does)' : ''}` : 'check the image= option';
  return new MnkvmError(`guest image '${nameOrPath}' is missing${where} (${manifest} not found): ${fix}`);
}

/** Load an image by name (from the cache) or by folder path; throws a MnkvmError naming the fix. */
export function loadImage(nameOrPath = 'default'): GuestImage {
  const dir = imageDir(nameOrPath);
  const manifest = join(dir, 'manifest.json');
  if (!existsSync(manifest)) throw missing(nameOrPath, manifest);
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as Manifest;
  return fromManifest(nameOrPath, dir, m, m.kind === 'rootfs' ? loadImage('default') : null);
}

/** The image as server has it (each server builds its own, with its own kernel: ansible/'s mnkvm role), read there by on. */
export async function loadImageOn(server: string, on: Runner, nameOrPath = 'default'): Promise<GuestImage> {
  const dir = imageDir(nameOrPath);
  const manifest = join(dir, 'manifest.json');
  const r = await on('cat', [manifest]);
  if (r.code !== 0) throw missing(nameOrPath, manifest, ` on ${server}`);
  const m = JSON.parse(r.stdout) as Manifest;
  return fromManifest(nameOrPath, dir, m, m.kind === 'rootfs' ? await loadImageOn(server, on, 'default') : null);
}

/** The image m describes; base: the default image, whose kernel and initramfs boot an image with a root filesystem. */
function fromManifest(nameOrPath: string, dir: string, m: Manifest, base: GuestImage | null): GuestImage {
  if (m.kind === 'rootfs') {
    const key = createHash('sha256').update(`${base!.key} ${m.key}`).digest('hex').slice(0, 16);
    return { ...base!, name: nameOrPath, dir, key, rootfs: join(dir, m.rootfs) };
  }
  return {
    name: nameOrPath, dir, key: m.key, rootfs: null,
    kernel: join(dir, m.kernel), initramfs: join(dir, m.initramfs), sshKey: join(dir, m.sshKey),
  };
}

/** How a host started from a container image starts (its config, as guest/import-image.py keeps it). */
export interface ContainerConfig { entrypoint: string[]; cmd: string[]; env: string[]; workingDir: string; user: string; exposedPorts: string[]; tags: string[] }

/** An image a Docker host (Containernet's addDocker) runs: its name in the cache, and how it starts. */
export interface ContainerImage { name: string; config: ContainerConfig }

/** Run one of guest/cache.sh's functions: the cache's protocol and the image-name rule have their one home there. */
export function guestCache(fn: 'image_name_problem' | 'cache_remove', args: string[]): SpawnSyncReturns<string> {
  return spawnSync('bash', ['-c', '. "$0" && "$@"', GUEST_CACHE, fn, ...args], { encoding: 'utf8' });
}

/** Why name cannot be an image's name (guest/cache.sh's rule, which the scripts that name an image check), or null where it can. */
export function imageNameProblem(name: string): string | null {
  return guestCache('image_name_problem', [name]).stdout.trim() || null;
}

/** An image's name (one imageNameProblem accepts) made of a Docker image's name: ubuntu:trusty is ubuntu-trusty. */
export function imageNameOf(dimage: string): string {
  return dimage.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'image';
}

function configOf(name: string): ContainerConfig | null {
  const path = join(IMAGES_DIR, name, 'config.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as ContainerConfig : null;
}

/**
 * The image Docker image dimage stands for: source (`mnkvm run --image
 * DIMAGE=SOURCE`) is an archive or OCI folder, imported on first use (and
 * cached by content), or an image's name; without one, the image imported
 * with dimage among its tags. One line where there is none.
 */
export async function containerImage(dimage: string, source: string | null): Promise<ContainerImage> {
  if (source && /^(docker-archive|oci):/.test(source)) {
    const name = imageNameOf(dimage);
    await importImage(source, name);
    return { name, config: configOf(name)! };
  }
  if (source) {
    const config = configOf(source);
    if (!config && !existsSync(join(IMAGES_DIR, source, 'manifest.json'))) {
      throw new MnkvmError(`--image ${dimage}=${source}: no image ${source} (\`mnkvm image list\` shows them): give docker-archive:FILE.tar, oci:DIR or an image's name`);
    }
    return { name: source, config: config ?? { entrypoint: [], cmd: [], env: [], workingDir: '', user: '', exposedPorts: [], tags: [] } };
  }
  const tagged = existsSync(IMAGES_DIR) ? readdirSync(IMAGES_DIR).filter((n) => configOf(n)?.tags.includes(dimage)) : [];
  if (tagged.length) return { name: tagged[0], config: configOf(tagged[0])! };
  throw new MnkvmError(`Docker image ${dimage} is not one mnkvm has: give \`mnkvm run --image ${dimage}=docker-archive:FILE.tar\` ` +
    `(docker save ${dimage} > FILE.tar where a registry is reachable), or import it first (mnkvm image import)`);
}

/** Import source as image name (guest/import-image.sh: a no-op where that content is imported already); its one line as an error. */
function importImage(source: string, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [GUEST_IMPORT, source, name], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => code === 0 ? resolve()
      : reject(new MnkvmError(err.trim().split('\n').pop()?.replace(/^mnkvm image import: /, '') ?? `could not import ${source}`)));
  });
}
