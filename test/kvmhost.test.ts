// KVMHost's Mininet API, exercised by Mininet scripts run with `mnkvm run`.
import { expect } from 'chai';
import { join } from 'node:path';
import { expectClean, mnkvm, SCRIPTS } from './helpers.js';

async function script(name: string, ...args: string[]): Promise<string> {
  const r = await mnkvm(['run', join(SCRIPTS, name), ...args]);
  expect(r.code, r.out + r.err).to.equal(0);
  return r.out;
}

function line(out: string, tag: string): string {
  const found = out.split('\n').find((l) => l.startsWith(tag + ' '));
  expect(found, `no ${tag} line in:\n${out}`).to.be.a('string');
  return found!.slice(tag.length + 1);
}

describe('KVMHost', function () {
  afterEach(expectClean);

  it('keeps cmd(), sendCmd()/waitOutput(), background jobs, popen() (a signal reaching its process in the guest) and pexec() faithful', async () => {
    const r = JSON.parse(line(await script('cmd_fidelity.py'), 'RESULT')) as Record<string, unknown>;
    expect(r.multiline).to.equal('a\r\nb\r\nc\r\n');
    expect(r.quoting).to.equal("it's 42 $HOME \\\r\n");
    expect(r.bigLen).to.equal(1_000_000);
    expect(r.bigAllX).to.equal(true);
    expect(r.exitCode).to.equal('1\r\n');
    expect(r.waiting).to.equal(true);
    expect(r.sendCmdOutput).to.equal('done\r\n');
    expect(r.bgEcho).to.equal('');
    expect(r.bgPid).to.be.a('number').above(1);
    expect(r.bgAlive).to.equal('alive\r\n');
    expect(r.hostname).to.match(/^h1\r\n/);
    expect(r.ifname).to.match(/h1-eth0/);
    expect(r.ip).to.equal('10.0.0.1');
    expect(r.ipInGuest).to.match(/inet 10\.0\.0\.1\/8/);
    expect(r.ping).to.match(/1 packets transmitted, 1 received, 0% packet loss/);
    expect(r.popen).to.deep.equal(['out\n', 'err\n', 3]);
    expect(r.pexec).to.deep.equal(['a b\n', '', 0]);
    expect(r.signal).to.deep.equal(['ready\n', 'got INT\n', 5]);
    expect(r.mac).to.equal('00:00:00:00:0a:01');
    expect(r.macInGuest).to.equal('00:00:00:00:0a:01\r\n');
    expect(r.route).to.match(/^default dev h1-eth0/);
    expect(r.intfUp).to.equal(true);
  });

  it('mixes namespace hosts and KVM hosts in one topology', async () => {
    const out = await script('mixed.py');
    expect(line(out, 'KINDS')).to.equal('h1=Host h2=KVMHost h3=KVMHost h4=Host');
    expect(Number(line(out, 'MEM'))).to.be.within(110_000, 150_000);   // kB: mem=160 MiB less the kernel (128 MiB gives ~95000)
    expect(line(out, 'DROPPED')).to.equal('0.0');
  });

  it('hot-plugs a NIC for addLink() after start, unplugs it on delLink(), and a new link can take a removed one\'s name', async () => {
    const out = await script('runtime_link.py');
    expect(line(out, 'INTFS')).to.equal('h1-eth1 h2-eth1');
    expect(line(out, 'GUEST')).to.match(/h1-eth1\s+inet 192\.168\.7\.1\/24/);
    expect(line(out, 'PING')).to.match(/2 packets transmitted, 2 received, 0% packet loss/);
    expect(line(out, 'AFTER')).to.equal('0 0');   // gone from the namespace and, at once, from the guest
    expect(line(out, 'RELINKED')).to.equal('h1-eth0 True');
    expect(line(out, 'DROPPED')).to.equal('0.0');
  });

  it('shapes a KVM host link with TCLink bw (iperf measures it)', async () => {
    const out = await script('tclink_bw.py', '5');
    expect(line(out, 'QDISC')).to.match(/htb 5: root/);
    const [server, client] = line(out, 'IPERF').split(' | ').map((s) => Number(s.split(' ')[0]));
    expect(server).to.be.within(3.5, 5.3);
    expect(client).to.be.within(3.5, 5.5);
  });

  it('starts guests in parallel: creating hosts does not wait for any guest to boot', async () => {
    const out = await script('boot_parallel.py');
    expect(line(out, 'STARTED')).to.equal('0 booted');
    // h2 started with h1 (one guest per core starts at once; CI has 2), h3 as soon as a core was free
    expect(line(out, 'AFTER_H1')).to.match(/^h1 h2( h3)?$/);
    expect(line(out, 'BOOTED')).to.equal('h1 h2 h3');
  });
});
