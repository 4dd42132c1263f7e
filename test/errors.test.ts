// Every input a user can get wrong: one clear line, a non-zero exit, nothing leaked.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectClean, mnkvm, SCRIPTS, TEST_ENV } from './helpers.js';

function oneLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('*** mnkvm: guests run under TCG'));
  expect(lines, text).to.have.length(1);
  return lines[0];
}

describe('bad input', function () {
  afterEach(expectClean);

  it('guest image missing: names the command that builds it', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'mnkvm-empty-'));
    const r = await mnkvm(['--topo', 'single,2', '--host', 'kvm'], { env: { ...TEST_ENV, MNKVM_CACHE: cache } });
    rmSync(cache, { recursive: true });
    expect(r.code).to.equal(1);
    expect(oneLine(r.err)).to.match(/^mnkvm: guest image 'default' is missing .*build it with `mnkvm image build`$/);
  });

  it('unknown --host kvm option', async () => {
    const r = await mnkvm(['--host', 'kvm,memory=256']);
    expect(r.code).to.equal(1);
    expect(oneLine(r.err)).to.match(/^mnkvm: unknown KVM host option 'memory': use mem, cpus, accel, image, bootTimeout/);
  });

  it('bad --host kvm value', async () => {
    const r = await mnkvm(['--host', 'kvm,mem=lots']);
    expect(r.code).to.equal(1);
    expect(oneLine(r.err)).to.match(/^mnkvm: KVM host option mem=lots: must be a whole number >= 160$/);
  });

  it('a bad KVM host option gives the same line from mnkvm and from a script', async () => {
    const line = 'mnkvm: KVM host option mem=100: must be a whole number >= 160';
    const cli = await mnkvm(['--topo', 'single,1', '--host', 'kvm,mem=100', '--test', 'none']);
    expect(cli.code).to.equal(1);
    expect(oneLine(cli.err)).to.equal(line);
    const script = await mnkvm(['run', join(SCRIPTS, 'kvmhost_mem100.py')]);
    expect(script.code).to.equal(1);
    expect(oneLine(script.err)).to.equal(line);
  });

  it('unknown --host type', async () => {
    const r = await mnkvm(['--host', 'vm', '--test', 'none']);
    expect(r.code).to.equal(1);
    expect(oneLine(r.err)).to.match(/^mnkvm: Exception: error: vm is unknown - please specify one of/);
  });

  it('unknown --topo', async () => {
    const r = await mnkvm(['--topo', 'ring,3', '--host', 'kvm', '--test', 'none']);
    expect(r.code).to.equal(1);
    expect(oneLine(r.err)).to.match(/^mnkvm: Exception: Invalid topo name ring/);
  });

  it('not root', async () => {
    const r = await mnkvm(['--topo', 'single,2', '--host', 'kvm'], { uid: 65534 });
    expect(r.code).to.equal(1);
    expect(oneLine(r.err)).to.match(/^mnkvm: mnkvm must run as root .*try `sudo mnkvm/);
  });

  it('QEMU missing', async () => {
    const r = await mnkvm(['--topo', 'single,2', '--host', 'kvm'], { env: { ...TEST_ENV, MNKVM_QEMU: 'qemu-system-nowhere' } });
    expect(r.code).to.equal(1);
    expect(oneLine(r.err)).to.match(/^mnkvm: qemu-system-nowhere not found: install it with \.\/setup\.sh/);
  });
});
