// mn's options, through mnkvm (namespace hosts where the option is about Mininet, not VMs: fast).
import { expect } from 'chai';
import { join } from 'node:path';
import { expectClean, mnkvm, SCRIPTS } from './helpers.js';

async function ok(args: string[]): Promise<string> {
  const r = await mnkvm(args);
  expect(r.code, r.out + r.err).to.equal(0);
  return r.out + r.err;
}

describe("mn's options", function () {
  afterEach(expectClean);

  it('--custom: topos, hosts, links (which mn drops) and tests dicts', async () => {
    const out = await ok(['--custom', join(SCRIPTS, 'custom.py'), '--topo', 'pair,2', '--host', 'vm',
      '--link', 'shaped', '--test', 'linkkinds', '--test', 'pingall']);
    expect(out).to.match(/^LINKS ShapedLink ShapedLink$/m);
    expect(out).to.match(/Results: 0% dropped \(2\/2 received\)/);
  });

  it('--mac, --arp, --ipbase, --pre and --post', async () => {
    const out = await ok(['--topo', 'single,2', '--mac', '--arp', '--ipbase', '192.168.50.0/24',
      '--pre', join(SCRIPTS, 'pre.cli'), '--post', join(SCRIPTS, 'post.cli'), '--test', 'pingall']);
    expect(out).to.match(/\('PRE', 2\)/);
    expect(out).to.match(/\('POST', '192\.168\.50\.1'\)/);
    expect(out).to.match(/Results: 0% dropped/);
  });

  it('--mac and --arp on KVM hosts set the guests', async () => {
    const out = await ok(['--topo', 'single,2', '--host', 'kvm', '--mac', '--arp', '--pre', join(SCRIPTS, 'pre.cli'), '--test', 'pingpair']);
    expect(out).to.match(/Results: 0% dropped \(2\/2 received\)/);
  });

  for (const test of ['build', 'all', 'iperfudp', 'none']) {
    it(`--test ${test}`, async () => {
      const out = await ok(['--topo', 'single,2', '--test', test]);
      if (test === 'all') expect(out).to.match(/Results: \['[\d.]+ [KMG]bits\/sec'/);
      if (test === 'iperfudp') expect(out).to.match(/Results: \['10M', '[\d.]+ [KMG]bits\/sec'/);
      expect(out).to.match(/completed in [\d.]+ seconds/);
    });
  }

  it('--link tc with parameters, --listenport, --nolistenport, --wait, --twait and -v levels', async () => {
    expect(await ok(['--topo', 'linear,2', '--link', 'tc,bw=20', '--test', 'pingall'])).to.match(/\(20\.00Mbit\)/);
    await ok(['--topo', 'single,1', '--listenport', '7000', '--test', 'none']);
    await ok(['--topo', 'single,1', '--nolistenport', '--wait', '--test', 'none']);
    await ok(['--topo', 'single,1', '--twait', '5', '--test', 'none']);
    expect(await ok(['--topo', 'single,2', '-v', 'output', '--test', 'pingall'])).to.not.match(/\*\*\* Creating network/);
    expect(await ok(['--topo', 'single,2', '-v', 'debug', '--test', 'none'])).to.match(/\*\*\* errRun:|_popen/);
  });

  it('--version', async () => {
    expect(await ok(['--version'])).to.match(/^2\.3\.\d/m);
  });
});
