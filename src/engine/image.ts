// Guest images: a kernel and an initramfs built by guest/build-image.sh.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { MnkvmError } from './errors.js';
import { IMAGES_DIR } from './paths.js';
import type { Runner } from './proc.js';

export interface GuestImage {
  name: string;
  dir: string;
  kernel: string;
  initramfs: string;
  sshKey: string;
  key: string;
}

interface Manifest { kernel: string; initramfs: string; sshKey: string; key: string }

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
  return fromManifest(nameOrPath, dir, readFileSync(manifest, 'utf8'));
}

/** The image as server has it (each server builds its own, with its own kernel: ansible/'s mnkvm role), read there by on. */
export async function loadImageOn(server: string, on: Runner, nameOrPath = 'default'): Promise<GuestImage> {
  const dir = imageDir(nameOrPath);
  const manifest = join(dir, 'manifest.json');
  const r = await on('cat', [manifest]);
  if (r.code !== 0) throw missing(nameOrPath, manifest, ` on ${server}`);
  return fromManifest(nameOrPath, dir, r.stdout);
}

function fromManifest(nameOrPath: string, dir: string, text: string): GuestImage {
  const m = JSON.parse(text) as Manifest;
  return {
    name: nameOrPath, dir, key: m.key,
    kernel: join(dir, m.kernel), initramfs: join(dir, m.initramfs), sshKey: join(dir, m.sshKey),
  };
}
