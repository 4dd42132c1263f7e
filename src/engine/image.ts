// Guest images: a kernel and an initramfs built by guest/build-image.sh.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { MnkvmError } from './errors.js';
import { IMAGES_DIR } from './paths.js';

export interface GuestImage {
  name: string;
  dir: string;
  kernel: string;
  initramfs: string;
  sshKey: string;
  key: string;
}

interface Manifest { kernel: string; initramfs: string; sshKey: string; key: string }

/** Load an image by name (from the cache) or by folder path; throws a MnkvmError naming the fix. */
export function loadImage(nameOrPath = 'default'): GuestImage {
  const dir = isAbsolute(nameOrPath) || nameOrPath.startsWith('.') ? nameOrPath : join(IMAGES_DIR, nameOrPath);
  const manifest = join(dir, 'manifest.json');
  if (!existsSync(manifest)) {
    const fix = nameOrPath === 'default' ? 'build it with `mnkvm image build`' : 'check the image= option';
    throw new MnkvmError(`guest image '${nameOrPath}' is missing (${manifest} not found): ${fix}`);
  }
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as Manifest;
  return {
    name: nameOrPath, dir, key: m.key,
    kernel: join(dir, m.kernel), initramfs: join(dir, m.initramfs), sshKey: join(dir, m.sshKey),
  };
}
