// The typed TypeScript API, used in-process as a program would, and its example.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isMnkvmError, Mininet, MininetError, MnkvmError, Topo } from '../src/api/index.js';
import { PROJECT_ROOT } from '../src/engine/paths.js';
import { expectClean, mnkvm, SCRIPTS, TEST_ENV } from './helpers.js';
import { bound } from './speed.js';

describe('TypeScript API', function () {
  before(() => { process.env.MNKVM_ACCEL = TEST_ENV.MNKVM_ACCEL; });
  afterEach(expectClean);

  it('starts a network, runs commands, reports typed errors, and cleans up with await using', async () => {
    const topo = new Topo();
    topo.addLink(topo.addHost('h1'), topo.addSwitch('s1'));
    topo.addLink(topo.addHost('h2', { kind: 'namespace' }), 's1');
    {
      await using net = await Mininet.start({ topo, host: 'kvm' });
      const h1 = await net.get('h1');
      expect(await h1.cmd('echo', 'hello')).to.equal('hello\r\n');
      expect(await h1.cmd('hostname')).to.equal('h1\r\n');
      expect(await net.ping()).to.equal(0);
      const p = await h1.popen(['sh', '-c', 'echo one; echo two >&2; exit 4']);
      const lines: string[] = [];
      for await (const l of p.lines()) lines.push(l);
      expect(lines.sort()).to.deep.equal(['one\n', 'two\n']);
      expect(await p.wait()).to.equal(4);
      await net.get('nope').then(() => expect.fail('no error'), (e: unknown) => {
        expect(isMnkvmError(e, 'usage')).to.equal(true);
        expect((e as Error).message).to.equal('no node named nope in this network');
      });
      await net.addLink('h1', 'nope').then(() => expect.fail('no error'), (e: unknown) => {
        expect(isMnkvmError(e, 'usage')).to.equal(true);
        expect((e as Error).message).to.equal('no node named nope in this network');
      });
      // (an exception of Mininet's own: an address without its prefix length)
      await (await h1.intf())!.setIP('10.0.0.1').then(() => expect.fail('no error'), (e: unknown) => {
        expect(e).to.be.instanceOf(MininetError);
        expect((e as MininetError).pythonType).to.equal('Exception');
      });
      const link = await net.addLink('h1', 's1');
      expect([link.intf1.name, link.intf2.name]).to.deep.equal(['h1-eth1', 's1-eth3']);
      await net.delLink(link);
      expect(await h1.intfNames()).to.deep.equal(['h1-eth0']);
      // What a new user's trial broke: a link added at run time to a Linux bridge (the API's default switch)
      // carried nothing, its new port never joined the bridge; for a namespace host and a KVM host
      for (const [name, kind, ip] of [['n3', 'namespace', '10.0.0.3'], ['n4', 'kvm', '10.0.0.4']] as const) {
        const host = await net.addHost(name, { kind });
        const { intf1: { name: intf }, intf2: { name: port } } = await net.addLink(name, 's1');
        expect([intf, port]).to.match(new RegExp(`^${name}-eth0,s1-eth\\d+$`));
        await host.cmd('ifconfig', intf, `${ip}/8`, 'up');
        expect(await host.cmd('ping -c1 -W5 10.0.0.2'), `${name} to h2 over ${port}`).to.contain('1 received');
      }
    }
    // (pythonia's Python, once restarted in a process, no longer reaches the engine)
    await Mininet.start({ topo }).then(() => expect.fail('a second network started'), (e: unknown) => {
      expect(e).to.be.instanceOf(MnkvmError);
      expect((e as Error).message).to.equal('one mnkvm network per process: start the next one in a new process');
    });
  });

  it("runs a program of Mininet's methods on nodes, interfaces and links, with progress events and errors by kind", () => {
    // (a process of its own: one network per process, and this one has had its network)
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'test', 'programs', 'network.js')],
      { encoding: 'utf8', env: TEST_ENV, timeout: bound(400_000) });
    expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(r.stdout).to.match(/^STEP done$/m);
  });

  it('runs the TypeScript example', () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'examples', 'typed-api.js')],
      { encoding: 'utf8', env: TEST_ENV, timeout: bound(240_000) });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/h1 kernel: \d+\.\d+\.\d+-\d+-cloud-amd64/);
    expect(r.stdout).to.match(/h1 ping \| 2 packets transmitted, 2 received/);
    expect(r.stdout).to.match(/ping exit code: 0/);
    expect(r.stdout).to.match(/new link: h3-eth0 <-> s1-eth3/);
  });
});

describe('mnkvm run --host kvm', function () {
  afterEach(expectClean);

  it("makes hosts of Mininet's Host class KVM hosts and keeps other classes", async () => {
    const r = await mnkvm(['run', join(SCRIPTS, 'defaults.py'), '--host', 'kvm', '--switch', 'lxbr', '--controller', 'none']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^KINDS h1=KVMHost h2=KVMHost h8=KVMHost h9=MyHost s1=LinuxBridge$/m);
    expect(r.out).to.match(/^DROPPED 0\.0$/m);
  });
});
