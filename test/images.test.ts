// Guest images from container images (mnkvm image import): archives made
// here by test/scripts/make-image.py (docker save's format, an OCI layout),
// imported into a cache of the test's own (MNKVM_CACHE), their disks read
// with debugfs (nothing mounted); then a KVM host that runs one.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, readdirSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectClean, mnkvm, SCRIPTS, TEST_ENV } from './helpers.js';
import { bound } from './speed.js';
import { IMAGES_DIR } from '../src/engine/paths.js';

const MAKE = join(SCRIPTS, 'make-image.py');

describe('mnkvm image import', function () {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const images = () => join(dir, 'cache', 'images');
  /** What debugfs says of path in image name's disk (cat a file, ls a folder). */
  const disk = (name: string, command: string) =>
    spawnSync('debugfs', ['-R', command, join(images(), name, 'rootfs.ext4')], { encoding: 'utf8' }).stdout;
  const make = (kind: string, out: string) => {
    const r = spawnSync('/usr/bin/python3', [MAKE, kind, join(dir, out)], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    return join(dir, out);
  };
  /** The cache holds the images named, and nothing half made. */
  const cacheHolds = (names: string[]) =>
    expect(readdirSync(images()).filter((f) => f !== '.lock' && !/-[0-9a-f]{16}$/.test(f)).sort()).to.deep.equal(names);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnkvm-images-'));
    env = { ...TEST_ENV, MNKVM_CACHE: join(dir, 'cache') };
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await expectClean();
  });

  it('applies the layers in order (whiteouts, an opaque folder, a hard link), keeps symlinks inside the image, and keeps its start settings', async () => {
    const archive = make('layers', 'web.tar');
    let r = await mnkvm(['image', 'import', `docker-archive:${archive}`, '--name', 'web'], { env });
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^image web: .*\/images\/web-[0-9a-f]{16} \(.*, from docker-archive:/m);
    // a lower layer's file whited out, another kept; the opaque folder has only the upper layer's
    expect(disk('web', 'ls -p /etc')).to.contain('/kept.conf/').and.not.to.contain('old.conf');
    expect(disk('web', 'ls -p /app')).to.contain('/upper/').and.not.to.contain('lower');
    // a hard link shares its target's inode; a path through a symlink lands where it points, inside
    const inode = (p: string) => /Inode: (\d+)/.exec(disk('web', `stat ${p}`))?.[1];
    expect(inode('/usr/bin/hard')).to.equal(inode('/usr/bin/tool')).and.to.be.a('string');
    expect(disk('web', 'cat /usr/bin/via-link')).to.equal('through bin\n');
    expect(disk('web', 'cat /etc/escaped')).to.equal('stays inside\n');   // up -> ../../.. stops at the root
    expect(disk('web', 'cat /etc/absolute')).to.equal('stays inside too\n');   // abs -> /etc is the image's
    expect(disk('web', 'ls /')).not.to.contain('dev-null');   // device nodes: the guest's devtmpfs has them
    // the image's Env and WorkingDir, for the guest's shells
    expect(disk('web', 'cat /.mnkvm/profile')).to.contain('export GREETING=hello').and.to.contain('cd /app');
    const config = JSON.parse(readFileSync(join(images(), 'web', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).to.include({ workingDir: '/app' });
    expect(config.cmd).to.deep.equal(['echo started > /app/started; exec httpd -f -p 80 -h /app']);
    expect(config.entrypoint).to.deep.equal(['/bin/sh', '-c']);
    expect(config.tags).to.deep.equal(['test/web:1']);
    // again: up to date (the same content); listed; removed
    r = await mnkvm(['image', 'import', `docker-archive:${archive}`, '--name', 'web'], { env });
    expect(r.out).to.match(/^image web up to date/m);
    // other content under the name: the name's earlier version goes, another name's stays
    expect((await mnkvm(['image', 'import', `docker-archive:${archive}`, '--name', 'web-1'], { env })).code).to.equal(0);
    expect((await mnkvm(['image', 'import', `docker-archive:${make('bootable', 'other.tar')}`, '--name', 'web'], { env })).code).to.equal(0);
    expect(readdirSync(images()).filter((f) => /^web-[0-9a-f]{16}$/.test(f))).to.have.length(1);
    expect((await mnkvm(['image', 'rm', 'web-1'], { env })).code).to.equal(0);
    r = await mnkvm(['image', 'list'], { env });
    expect(r.out).to.match(/^web\trootfs\t\d+ MiB\t\S+\tdocker-archive:/m);
    r = await mnkvm(['image', 'rm', 'web'], { env });
    expect(r.code, r.err).to.equal(0);
    cacheHolds([]);
    expect(readdirSync(images()).filter((f) => f.startsWith('web'))).to.deep.equal([]);
  });

  it('imports an OCI layout (blobs checked against their digests), picking an image by its ref.name', async () => {
    const layout = make('oci', 'layout');
    let r = await mnkvm(['image', 'import', `oci:${layout}:web`], { env });
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^image layout: /m);   // named after the folder
    expect(disk('layout', 'ls -p /app')).to.contain('/upper/').and.not.to.contain('lower');
    r = await mnkvm(['image', 'import', `oci:${layout}:other`], { env });
    expect([r.code, r.err]).to.deep.equal([1, `oci:${layout} has no image other (it has: web)\n`]);
  });

  it('refuses bad input in one line and leaves nothing in the cache', async () => {
    const escape = make('escape', 'escape.tar');
    const corrupt = make('corrupt', 'corrupt.tar');
    const notImage = join(dir, 'not-an-image.tar');
    spawnSync('sh', ['-c', `echo hello > ${notImage}`]);
    const cases: [string[], RegExp][] = [
      [[`docker-archive:${escape}`], /^docker-archive:\S+: layer 2 of 2: path app\/\.\.\/\.\.\/outside leaves the image's root \(\.\.\): the archive is not a safe image\n$/],
      [[`docker-archive:${corrupt}`], /^docker-archive:\S+: layer 2 of 2 is corrupt: /],
      [[`docker-archive:${notImage}`], /^\S+not-an-image\.tar is not an image archive \(docker save\): /],
      [[`docker-archive:${join(dir, 'missing.tar')}`], /^mnkvm image import: \S+missing\.tar: no such file \(give docker-archive:FILE\.tar, as docker save writes it\)\n$/],
      [['registry:ubuntu'], /^mnkvm image import: registry:ubuntu: give docker-archive:FILE\.tar or oci:DIR\n$/],
      [[`docker-archive:${escape}`, '--name', 'Bad Name'], /^mnkvm image import: image name 'Bad Name': use lower-case letters, digits, '\.', '_' and '-'\n$/],
    ];
    for (const [args, error] of cases) {
      const r = await mnkvm(['image', 'import', ...args], { env });
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.err).to.match(error);
      cacheHolds([]);
      expect(readdirSync(images()).filter((f) => f.startsWith('.import'))).to.deep.equal([]);
    }
    const r = await mnkvm(['image', 'rm', 'nothing'], { env });
    expect([r.code, r.err]).to.deep.equal([1, 'mnkvm: no image nothing: `mnkvm image list` shows the images\n']);
  });

  it('boots KVM hosts in a Debian image with an extra package (built by setup.sh), as snapshot clones, their writes kept apart', async function () {
    this.timeout(bound(10 * 60_000));
    const r = await mnkvm(['run', join(SCRIPTS, 'image-hosts.py'), '--switch', 'lxbr', '--', 'test-debian'], { timeoutMs: 9 * 60_000 });
    expect(r.code, r.out + r.err).to.equal(0);
    const got = JSON.parse(/^IMAGE (.*)$/m.exec(r.out)?.[1] ?? 'null') as Record<string, unknown>;
    expect(got, r.out + r.err).to.deep.include({ dropped: 0, ownWrite: 'mine', restored: [true, true] });
    expect(got.debian).to.match(/^12\.\d+$/);
    expect(got.iperf3).to.match(/^iperf 3\./);
    expect(got.otherSees).to.contain('No such file');
  });

  it('a KVM host whose image disk does not mount fails in one line, at once, leaving nothing', async function () {
    this.timeout(bound(5 * 60_000));
    // imported into mnkvm's cache (its guests need the default image there), then its superblock wiped;
    // a key of its own: no snapshot template of the same content, made from a disk still whole, is used
    const name = 'mnkvm-test-broken';
    const key = { ...TEST_ENV, MNKVM_IMAGE_KEY: randomBytes(8).toString('hex') };
    expect((await mnkvm(['image', 'import', `docker-archive:${make('bootable', 'broken.tar')}`, '--name', name], { env: key })).code).to.equal(0);
    try {
      const fd = openSync(join(realpathSync(join(IMAGES_DIR, name)), 'rootfs.ext4'), 'r+');
      writeSync(fd, Buffer.alloc(4096), 0, 4096, 0);
      closeSync(fd);
      for (const boot of ['clone', 'cold']) {
        const r = await mnkvm(['--topo', 'single,1', '--host', `kvm,image=${name},boot=${boot}`, '--switch', 'lxbr', '--controller', 'none', '--test', 'none']);
        expect([r.code, r.err.split('\n').filter((l) => l.startsWith('mnkvm:'))], boot).to.deep.equal(
          [1, ["mnkvm: h1: the image's disk /dev/vda does not mount: import or build the image again"]]);
      }
    } finally {
      await mnkvm(['image', 'rm', name]);
    }
  });
});
