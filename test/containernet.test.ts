// Containernet's examples under mnkvm run (test/scripts/containernet, one
// script per example: basic, CMD field, volume, topology, dockerhosts; the
// basic one beside its TypeScript port): Docker hosts as
// KVM hosts booted from an imported image (made here by
// test/scripts/make-image.py: this machine's bash and libraries under the
// test layers; no registry), each option's effect checked in the guest or
// from this machine; mnkvm migrate; bad input.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectClean, Mnkvm, mnkvm, program, SCRIPTS } from './helpers.js';
import { bound } from './speed.js';

const EXAMPLES = join(SCRIPTS, 'containernet');
const script = (name: string) => join(EXAMPLES, `containernet_${name}.py`);
const results = (out: string) => JSON.parse(/^CONTAINERNET (.*)$/m.exec(out)?.[1] ?? 'null') as Record<string, unknown>;

/** A TCP port of this machine that nothing listens on (the OS's pick). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Containernet scripts on KVM hosts', function () {
  let dir: string;
  let image: string[];   // mnkvm run's --image for the scripts' web:1
  let archive: string;   // its Docker archive

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnkvm-containernet-'));
    archive = join(dir, 'web.tar');
    const r = spawnSync('/usr/bin/python3', [join(SCRIPTS, 'make-image.py'), 'bootable', archive], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    image = ['--image', `web:1=docker-archive:${archive}`, '--switch', 'lxbr'];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(expectClean);

  it('mnkvm migrate says what each Docker host\'s options become, and the images the script needs, without running it', async () => {
    const r = await mnkvm(['migrate', script('example')]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^d1 \(line \d+\):$/m);
    expect(r.out).to.contain("  dimage='web:1': mapped: image=");
    expect(r.out).to.contain("  mem_limit='300m': mapped: mem=");
    expect(r.out).to.contain('  cpu_quota=150000: approximated: cpus=');
    expect(r.out).to.contain('  cpu_shares=20: dropped: no weights');
    expect(r.out).to.match(/^images: web:1$/m);
    expect(r.out).to.contain('web:1: give --image web:1=docker-archive:FILE.tar');
    const ports = await mnkvm(['migrate', script('example_cmd_field')]);
    expect(ports.out).to.contain("  port_bindings={80: port, '5353/udp': 5353}: mapped: TCP:");
    const tree = await mnkvm(['migrate', script('topology_example')]);
    expect(tree.out).to.match(/^TreeContainerNet \(line \d+\): a tree of Docker hosts of dimage='web:1'/m).and.to.match(/^images: web:1$/m);
  });

  it('the basic example: pingall; environment, memory, vCPUs, WorkingDir in the guest; Docker hosts added and removed at run time', async function () {
    this.timeout(bound(15 * 60_000));
    const r = await mnkvm(['run', script('example'), ...image], { timeoutMs: 14 * 60_000 });
    expect(r.code, r.out + r.err).to.equal(0);
    const got = results(r.out);
    expect(got, r.out + r.err).to.include({
      ping: 0, env: 'test run/hello', envPopen: 'test run', cpus: 2, cwd: '/app', resources: 512,
    });
    expect(got.memKiB).to.be.within(200 * 1024, 300 * 1024);   // mem_limit='300m' (the kernel keeps some)
    expect(got.added).to.contain('1 received');
    expect(got.hosts).to.deep.equal(['d1', 'd2']);
    // what has no KVM equivalent: a line each
    expect(r.err).to.contain('*** d1: cpu_quota=150000: cpus=2 (whole vCPUs, not a share of one)');
    expect(r.err).to.contain("*** d2: cpu_shares=20: left out: no weights between VMs' threads");
    expect(r.err).to.contain('*** d2: updateCpuLimit(cpu_shares=512): not applied');
    // its TypeScript port (examples/containernet_example.ts) finds the same
    const ts = await program(join('examples', 'containernet_example.js'), [`web:1=docker-archive:${archive}`], { timeoutMs: 14 * 60_000 });
    expect(ts.code, ts.out + ts.err).to.equal(0);
    const { added, ...found } = results(ts.out);
    const { added: pyAdded, ...pyFound } = got;
    expect(found).to.deep.equal(pyFound);
    expect([added, pyAdded]).to.satisfy((both: string[]) => both.every((out) => out.includes('1 packets transmitted, 1 received')));
    expect(ts.err).to.contain('*** d1: cpu_quota=150000: cpus=2 (whole vCPUs, not a share of one)');
  });

  it('the CMD field example: d.start() runs the image\'s ENTRYPOINT and CMD, dcmd runs, and a published port reaches the guest from this machine', async function () {
    this.timeout(bound(15 * 60_000));
    const port = await freePort();
    const r = await mnkvm(['run', script('example_cmd_field'), ...image, '--', String(port)], { timeoutMs: 14 * 60_000 });
    expect(r.code, r.out + r.err).to.equal(0);
    const got = results(r.out);
    expect(got, r.out + r.err).to.include({ ping: 0, dcmd: 'up', started: 'started', fromMachine: 'started', fromD1: 'started' });
    // port 80 at the port given; 81 (ports=, no binding) at a free one; UDP: a line
    const published = got.published as [number, string, number][];
    expect(published[0]).to.deep.equal([80, '0.0.0.0', port]);
    expect(published[1].slice(0, 2)).to.deep.equal([81, '0.0.0.0']);
    expect(published[1][2]).to.be.above(0);
    expect(r.err + r.out).to.contain(`*** d2: port 80 published at 0.0.0.0:${port}`);
    expect(r.err).to.contain('*** d2: port 5353/udp: left out: only TCP ports are relayed');
    // the relay has ended with the run: the port is free again
    expect(await freePortIs(port)).to.equal(true);
  });

  it('a port of this machine already in use is one line, and nothing is left', async function () {
    this.timeout(bound(15 * 60_000));
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const r = await mnkvm(['run', script('example_cmd_field'), ...image, '--', String(port)], { timeoutMs: 14 * 60_000 });
      expect(r.code, r.out + r.err).to.equal(1);
      // (TCLink has printed its words without a newline before it)
      expect(r.err).to.match(new RegExp(`mnkvm: d2: port 80 cannot be published at 0\\.0\\.0\\.0:${port} \\(Address already in use\\): give another port of this machine in port_bindings$`, 'm'));
    } finally {
      busy.close();
    }
  });

  it('the volume example: two hosts share a volume, a second one is read-only, a direct link between them', async function () {
    this.timeout(bound(15 * 60_000));
    const vol1 = join(dir, 'vol1');
    const vol2 = join(dir, 'data', 'vol2');
    mkdirSync(vol2, { recursive: true });
    writeFileSync(join(vol2, 'hello'), 'from the machine\n');
    const r = await mnkvm(['run', script('volume_example'), ...image, '--', vol1, vol2], { timeoutMs: 14 * 60_000 });
    expect(r.code, r.out + r.err).to.equal(0);
    const got = results(r.out);
    expect(got, r.out + r.err).to.include({ ping: 0, d2reads: 'written by d1', vol2: 'from the machine' });
    expect(got.vol2write).to.match(/Read-only file system/);
    expect(readFileSync(join(vol1, 'from-d1'), 'utf8')).to.equal('written by d1\n');   // made by the run, as Docker makes it
    expect(existsSync(join(vol2, 'new'))).to.equal(false);
  });

  it('the topology example: TreeContainerNet with Mininet\'s CLI, pingall from it', async function () {
    this.timeout(bound(15 * 60_000));
    const run = new Mnkvm(['run', script('topology_example'), ...image], { timeoutMs: 14 * 60_000 });
    await run.waitFor(/mininet> $/, { stdoutOnly: true, timeoutMs: 12 * 60_000 });
    run.send('pingall\n');
    await run.waitFor(/Results: \d+% dropped/);
    expect(run.out + run.err).to.contain('*** Results: 0% dropped (6/6 received)');
    run.send('h3 pwd\n');
    await run.waitFor(/\/app\r?\n/);
    run.send('exit\n');
    const r = await run.done;
    expect(r.code, r.out + r.err).to.equal(0);
  });

  // What a new user's trial broke: an image without bash (busybox, Alpine) got no IPv4 address (the shell's
  // own ifconfig refused Mininet's ADDRESS/PREFIX), and d5's volume of / ended the run once three VMs were up
  it("Containernet's dockerhosts.py, ubuntu:trusty mapped to a busybox image (no bash): pings, d5's volume of / left out in one line, d4 added at run time", async function () {
    this.timeout(bound(15 * 60_000));
    const archive = join(dir, 'busybox.tar');
    const made = spawnSync('/usr/bin/python3', [join(SCRIPTS, 'make-image.py'), 'busybox', archive], { encoding: 'utf8' });
    expect(made.status, made.stderr).to.equal(0);
    const run = new Mnkvm(['run', join(EXAMPLES, 'dockerhosts.py'), '--image', `ubuntu:trusty=docker-archive:${archive}`, '--switch', 'lxbr',
      '--', String(await freePort())], { timeoutMs: 14 * 60_000 });
    await run.waitFor(/mininet> $/, { stdoutOnly: true, timeoutMs: 12 * 60_000 });
    run.send('d1 echo shell $(readlink /bin/sh) bash $(command -v bash || echo none)\n');
    await run.waitFor(/^shell busybox bash none\r?$/m);
    run.send('exit\n');
    const r = await run.done;
    const all = r.out + r.err;
    expect(r.code, all).to.equal(0);
    expect(all).to.contain('*** d5: volumes: /:/mnt/vol1 is left out (it is /: a KVM host shares one folder of this machine, never its whole tree)');
    // net.ping([d1, d2]); d1 to d2, d2 and d3 to d2's second interface (manualdestip); d1 to d4, added at run time
    expect(all.match(/^\*\*\* Results: .*$/gm), all).to.deep.equal(['*** Results: 0% dropped (2/2 received)', '*** Results: 0% dropped (1/1 received)',
      '*** Results: 0% dropped (2/2 received)', '*** Results: 0% dropped (1/1 received)']);
    expect(all).to.match(/^d1 -> 10\.0\.0\.254$/m);   // (d4 answers)
    expect(all).to.not.match(/Traceback|bad address/);
  });

  it('refuses a Docker image it has no image for, in one line, leaving nothing', async () => {
    const r = await mnkvm(['run', script('example'), '--switch', 'lxbr']);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^mnkvm: Docker image web:1 is not one mnkvm has: give `mnkvm run --image web:1=docker-archive:FILE\.tar` /m);
    const tree = await mnkvm(['run', script('topology_example'), '--switch', 'lxbr']);
    expect(tree.code).to.equal(1);
    expect(tree.err).to.match(/^mnkvm: Docker image web:1 is not one mnkvm has/m);
    const bad = await mnkvm(['run', script('example'), '--image', 'web:1']);
    expect([bad.code, bad.err]).to.deep.equal([1,
      "mnkvm: --image web:1: give DIMAGE=SOURCE (ubuntu:trusty=docker-archive:ubuntu.tar, or =oci:DIR, or =an mnkvm image's name)\n"]);
  });
});

/** Whether port of this machine can be listened on again. */
async function freePortIs(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}
