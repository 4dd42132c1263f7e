// `mnkvm image ...`: guest images in the cache (IMAGES_DIR), each a folder
// NAME-KEY (KEY: a hash of what it was made of) and a link NAME to the
// newest. Building (the default, a Debian image) and importing (a container
// image) are guest/'s scripts, which take the cache's lock (guest/cache.sh,
// the cache's one protocol); listing reads the manifests; removing runs
// cache.sh's cache_remove, under the lock too.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { MnkvmError } from '../engine/errors.js';
import { guestCache, imageNameOf, imageNameProblem } from '../engine/image.js';
import { GUEST_BUILD, GUEST_DEBIAN, GUEST_IMPORT, IMAGES_DIR } from '../engine/paths.js';
import { requireRoot } from '../bridge/session.js';

/** An image of the cache, as `mnkvm image list` shows it. */
export interface ImageEntry { name: string; kind: 'default' | 'rootfs'; dir: string; sizeMiB: number; source: string; built: string }

/** The images of the cache, by name. */
export function listImages(): ImageEntry[] {
  if (!existsSync(IMAGES_DIR)) return [];
  const entries: ImageEntry[] = [];
  for (const name of readdirSync(IMAGES_DIR).sort()) {
    const link = join(IMAGES_DIR, name);
    let target: string;
    try {
      target = readlinkSync(link);
    } catch {
      continue;   // a folder NAME-KEY, or the lock
    }
    const dir = join(IMAGES_DIR, target);
    const manifest = join(dir, 'manifest.json');
    if (!existsSync(manifest)) continue;
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { kind?: string; source?: string; built?: string };
    const bytes = readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).blocks * 512, 0);
    entries.push({ name, kind: m.kind === 'rootfs' ? 'rootfs' : 'default', dir, sizeMiB: Math.round(bytes / 2 ** 20),
      source: m.source ?? 'guest/build-image.sh', built: m.built ?? '' });
  }
  return entries;
}

/** The name an imported image gets where none is given: the archive's or folder's, as an image name may be. */
export function defaultImageName(source: string): string {
  const path = source.replace(/^[a-z-]+:/, '').split(':')[0];
  return imageNameOf(basename(path).replace(/\.tar$/, ''));
}

/** Remove image name (every version of it): one line where it does not exist or is the default. */
export function removeImage(name: string): void {
  if (name === 'default') throw new MnkvmError("'default' is the guest image every KVM host boots: rebuild it with `mnkvm image build` instead");
  // (a name no image can have names none: not the cache's lock, nor ..)
  if (imageNameProblem(name) || !existsSync(join(IMAGES_DIR, name))) throw new MnkvmError(`no image ${name}: \`mnkvm image list\` shows the images`);
  const r = guestCache('cache_remove', [IMAGES_DIR, name]);
  if (r.status !== 0) throw new MnkvmError(`could not remove image ${name}: ${r.stderr.trim()}`);
}

/**
 * Which image each Docker image name stands for (`mnkvm run --image
 * DIMAGE=SOURCE`, repeatable, and --image-map FILE: a line each, # for
 * comments): an archive's or folder's path made absolute (in a file:
 * against the file's folder).
 */
export function imageMap(given: string[], file?: string): Record<string, string> {
  const lines = given.map((g) => ({ line: g, where: `--image ${g}`, base: process.cwd() }));
  if (file) {
    if (!existsSync(file)) throw new MnkvmError(`--image-map ${file}: no such file`);
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (line.trim() && !line.trim().startsWith('#')) lines.push({ line: line.trim(), where: `${file}:${i + 1}`, base: dirname(resolve(file)) });
    });
  }
  const map: Record<string, string> = {};
  for (const { line, where, base } of lines) {
    const at = line.indexOf('=');
    const [dimage, source] = [line.slice(0, at), line.slice(at + 1)];
    if (at < 1 || !source) throw new MnkvmError(`${where}: give DIMAGE=SOURCE (ubuntu:trusty=docker-archive:ubuntu.tar, or =oci:DIR, or =an mnkvm image's name)`);
    const m = /^(docker-archive|oci):(.*)$/.exec(source);
    map[dimage] = m ? `${m[1]}:${resolve(base, m[2])}` : source;
  }
  return map;
}

/** Run one of guest/'s image scripts (they say what they do, and one line when they cannot). */
function runScript(script: string, args: string[]): void {
  requireRoot();
  const r = spawnSync('bash', [script, ...args], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}

export function imageCommand(): Command {
  const image = new Command('image').description('guest images: the default, and images imported from containers');
  image.command('build').description('build the default guest image, or with --debian an image of Debian packages (only when its inputs changed)')
    .option('--debian', 'a Debian 12 root filesystem (mmdebstrap) with --packages, for KVM hosts with image=NAME')
    .option('--packages <list>', 'with --debian: the Debian packages the image has, comma separated (iperf3,nginx)')
    .option('--name <name>', 'with --debian: the image\'s name')
    .action((opts: { debian?: boolean; packages?: string; name?: string }) => {
      if (!opts.debian) {
        if (opts.packages || opts.name) throw new MnkvmError('--packages and --name build a Debian image: add --debian');
        runScript(GUEST_BUILD, []);
        return;
      }
      if (!opts.packages || !opts.name) throw new MnkvmError('mnkvm image build --debian needs --packages LIST and --name NAME');
      runScript(GUEST_DEBIAN, [opts.name, opts.packages]);
    });
  image.command('import').description('import a container image (docker save\'s archive, or an OCI layout) as a guest image')
    .argument('<source>', 'docker-archive:FILE.tar or oci:DIR, each with :REF to pick one of several images')
    .option('--name <name>', 'the image\'s name (default: the archive\'s or folder\'s)')
    .action((source: string, opts: { name?: string }) => {
      const [kind, ...rest] = source.split(':');
      const path = rest.join(':');
      // (a relative path is this folder's: the script runs elsewhere)
      const absolute = path && (kind === 'docker-archive' || kind === 'oci') ? `${kind}:${resolve(path)}` : source;
      runScript(GUEST_IMPORT, [absolute, opts.name ?? defaultImageName(source)]);
    });
  image.command('list').description('the images in the cache')
    .action(() => {
      for (const i of listImages()) console.log(`${i.name}\t${i.kind}\t${i.sizeMiB} MiB\t${i.built}\t${i.source}`);
    });
  image.command('rm').description('remove an image from the cache')
    .argument('<name>', 'the image\'s name, as `mnkvm image list` shows it')
    .action((name: string) => {
      requireRoot();
      removeImage(name);
    });
  return image;
}
