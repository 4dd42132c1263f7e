// Containernet's scripts under mnkvm run: Docker hosts as KVM hosts booted
// from an imported image (made here by test/scripts/make-image.py: this
// machine's bash and libraries under the test layers; no registry), each
// option's effect checked in the guest; mnkvm migrate; bad input.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectClean, mnkvm, SCRIPTS } from './helpers.js';

const SCRIPT = join(SCRIPTS, 'containernet', 'options.py');

describe('Containernet scripts on KVM hosts', function () {
  let dir: string;
  let archive: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnkvm-containernet-'));
    archive = join(dir, 'web.tar');
    const r = spawnSync('/usr/bin/python3', [join(SCRIPTS, 'make-image.py'), 'bootable', archive], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(expectClean);

  it('mnkvm migrate says what each Docker host\'s options become, and the images the script needs, without running it', async () => {
    const r = await mnkvm(['migrate', SCRIPT]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^d1 \(line \d+\):$/m);
    expect(r.out).to.contain("  dimage='web:1': mapped: image=");
    expect(r.out).to.contain("  mem_limit='300m': mapped: mem=");
    expect(r.out).to.contain('  cpu_quota=150000: approximated: cpus=');
    expect(r.out).to.contain('  port_bindings={80: 8080}: dropped: no port forwarding');
    expect(r.out).to.match(/^images: web:1$/m);
    expect(r.out).to.contain('web:1: give --image web:1=docker-archive:FILE.tar');
  });

  it('runs a Containernet script unchanged: each option\'s effect in the guest, d.start(), a Docker host added and removed at run time', async function () {
    this.timeout(15 * 60_000);
    const volume = join(dir, 'volume');
    spawnSync('mkdir', ['-p', volume]);
    writeFileSync(join(volume, 'hello'), 'from the machine\n');
    const r = await mnkvm(['run', SCRIPT, '--image', `web:1=docker-archive:${archive}`, '--switch', 'lxbr', '--', volume], { timeoutMs: 14 * 60_000 });
    expect(r.code, r.out + r.err).to.equal(0);
    const got = JSON.parse(/^CONTAINERNET (.*)$/m.exec(r.out)?.[1] ?? 'null') as Record<string, unknown>;
    expect(got, r.out + r.err).to.include({
      ping: 0, env: 'test run/hello', envPopen: 'test run', volume: 'from the machine', cpus: 2, cwd: '/app',
      dcmd: 'up', started: 'started', resources: 512,
    });
    expect(got.memKiB).to.be.within(200 * 1024, 300 * 1024);   // mem_limit='300m' (the kernel keeps some)
    expect(got.added).to.contain('1 received');
    expect(got.hosts).to.deep.equal(['d1', 'd2']);
    // the options without a KVM equivalent: a line each
    expect(r.err).to.contain("*** d2: port_bindings={80: 8080}: left out: no port forwarding from this machine yet");
    expect(r.err).to.contain("*** d2: ports=[80]: left out:");
    expect(r.err).to.contain('*** d1: cpu_quota=150000: cpus=2 (whole vCPUs, not a share of one)');
    expect(r.err).to.contain("*** d2: updateCpuLimit(cpu_shares=512): not applied");
  });

  it('refuses a Docker image it has no image for, in one line, leaving nothing', async () => {
    const r = await mnkvm(['run', SCRIPT, '--switch', 'lxbr', '--', dir]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^mnkvm: Docker image web:1 is not one mnkvm has: give `mnkvm run --image web:1=docker-archive:FILE\.tar` /m);
    const bad = await mnkvm(['run', SCRIPT, '--image', 'web:1', '--', dir]);
    expect([bad.code, bad.err]).to.deep.equal([1,
      "mnkvm: --image web:1: give DIMAGE=SOURCE (ubuntu:trusty=docker-archive:ubuntu.tar, or =oci:DIR, or =an mnkvm image's name)\n"]);
  });
});
