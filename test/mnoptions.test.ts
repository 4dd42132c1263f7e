// mn's options, through mnkvm (namespace hosts where the option is about Mininet, not VMs: fast).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from '../src/engine/proc.js';
import { expectClean, mnkvm, SCRIPTS, TEST_ENV, waitUntil } from './helpers.js';

/** An X server of the test's own (Xvfb on a free display number), stopped by its pid. */
async function startXvfb(): Promise<{ name: string; stop: () => void }> {
  let n = 90;
  while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n++;
  const xvfb = spawn('Xvfb', [`:${n}`, '-nolisten', 'tcp'], { stdio: 'ignore' });
  await waitUntil(() => existsSync(`/tmp/.X11-unix/X${n}`), 10_000, 'Xvfb did not start');
  return { name: `:${n}`, stop: () => xvfb.kill('SIGTERM') };
}

async function ok(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await mnkvm(args, opts);
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

  it('--pin pins each KVM host to a core of its own', async () => {
    const out = await ok(['--topo', 'single,2', '--host', 'kvm', '--pin', '--test', 'none', '--post', join(SCRIPTS, 'pin.cli')]);
    expect(out).to.match(/\('PIN', \[\[0\], \[1\]\]\)/);
  });

  it('--innamespace: switches in namespaces of their own, no controller needed', async () => {
    const out = await ok(['--topo', 'single,2', '--host', 'kvm', '--innamespace', '--test', 'pingall',
      '--post', join(SCRIPTS, 'innamespace.cli')]);
    expect(out).to.match(/Results: 0% dropped \(2\/2 received\)/);
    expect(out).to.match(/\('SWITCH IN NAMESPACE', True, True\)/);
  });

  it('--nat: hosts route through the NAT node; its iptables rules and ip_forward are undone', async () => {
    const before = [await runOk('iptables', ['-S']), await runOk('iptables', ['-t', 'nat', '-S']),
      readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')];
    const hadInterfacesFile = existsSync('/etc/network/interfaces');
    const out = await ok(['--topo', 'single,2', '--host', 'kvm', '--nat', '--test', 'none', '--post', join(SCRIPTS, 'nat.cli')]);
    expect(out).to.match(/default via 10\.0\.0\.3 dev h1-eth0/);
    expect(out).to.match(/\('NAT PING', 1\)/);
    expect([await runOk('iptables', ['-S']), await runOk('iptables', ['-t', 'nat', '-S']),
      readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')]).to.deep.equal(before);
    expect(existsSync('/etc/network/interfaces')).to.equal(hadInterfacesFile);
  });

  it('-x: a terminal per node; a KVM host\'s is logged into the guest (on an Xvfb display)', async () => {
    const display = await startXvfb();
    try {
      const out = await ok(['--topo', 'single,1', '--host', 'kvm', '-x', '--test', 'none', '--post', join(SCRIPTS, 'xterm.cli')],
        { env: { ...TEST_ENV, DISPLAY: display.name } });
      expect(out).to.match(/Running terms on :\d+/);
      // two terminals (s1, h1); in the guest, dropbear's daemon and h1's terminal session
      expect(out).to.match(/\('TERMS', 2, 2\)/);
    } finally {
      display.stop();
    }
  });

  it("--cluster (mn's), and --servers and --placement given wrong: one line each, nothing left", async () => {
    let r = await mnkvm(['--topo', 'single,2', '--cluster', 'localhost']);
    expect(r.code).to.equal(1);
    expect(r.err.trim()).to.match(/^mnkvm: mnkvm spreads a network over servers with --servers .*: use --servers$/);
    r = await mnkvm(['--topo', 'single,2', '--placement', 'random']);
    expect(r.err.trim()).to.equal('mnkvm: --placement places nodes on the servers --servers names: give --servers too');
    r = await mnkvm(['--topo', 'single,2', '--servers', 'tb1', '--placement', 'block']);
    expect(r.err.trim()).to.match(/^mnkvm: --placement block: no such placer: give one of switchbin, /);
    // (a server that does not answer: port 1 of this machine has nothing listening)
    r = await mnkvm(['--topo', 'single,2', '--servers', 'root@127.0.0.1:1']);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^mnkvm: root@127\.0\.0\.1:1: cannot reach it over SSH \(root@127\.0\.0\.1:1: .*\): check that `ssh -p PORT USER@HOST` logs in without a password\n$/);
  });

  it('--version', async () => {
    expect(await ok(['--version'])).to.match(/^2\.3\.\d/m);
  });
});
