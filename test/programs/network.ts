// A program of the TypeScript API's methods on one small network (test/api.test.ts runs it in a
// process of its own: one network per process): namespace hosts h1 and h2 and a KVM host h3 on
// a Linux bridge s1, h2's link a TCLink, h3's an SR-IOV link (emulated); nodes, interfaces and
// links as objects, Mininet's methods, progress events and typed errors. Each step prints a
// line (STEP ...), so that a failure says how far it came; an assertion that fails ends it with
// a non-zero exit.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Host, isMnkvmError, Link, MininetError, Mininet, Switch, TCIntf, Topo, type Node, type ProgressEvent,
} from '../../src/api/index.js';

/** Whether fn fails with the error check accepts (what it says if not). */
async function fails(fn: () => Promise<unknown>, check: (e: unknown) => void): Promise<void> {
  let failed = false;
  try {
    await fn();
  } catch (e) {
    failed = true;
    check(e);
  }
  expect(failed, 'no error').to.equal(true);
}

const step = (what: string) => console.log(`STEP ${what}`);
const names = (nodes: Node[]) => nodes.map((n) => n.name);

const topo = new Topo();
const s1 = topo.addSwitch('s1');
topo.addLink(topo.addHost('h1', { kind: 'namespace' }), s1);
// (bw only: this machine's kernel has no netem, which delay and loss need)
topo.addLink(topo.addHost('h2', { kind: 'namespace' }), s1, { kind: 'tc', bw: 10 });
topo.addLink(topo.addHost('h3', { kind: 'kvm', mem: 256 }), s1, { kind: 'sriov', mode: 'emulated' });

const events: ProgressEvent[] = [];
await using net = await Mininet.start({ topo, onProgress: (e) => events.push(e) });

step('progress events while the network was built');
// (a switch on the kind narrows each event: the compiler checks the fields used)
const booted: string[] = [];
let mininetLines = '';
for (const e of events) {
  switch (e.kind) {
    case 'log': mininetLines += e.text; break;
    case 'notice': expect(e.line).to.be.a('string'); break;
    case 'hostBooting': expect(e.hosts).to.be.at.least(1); break;
    case 'hostBooted': booted.push(`${e.host} ${e.booted} of ${e.hosts}`); break;
    case 'templateMade': expect(e.seconds).to.be.above(0); break;
    case 'imageImported': expect.fail('no Docker host here'); break;
  }
}
expect(mininetLines).to.contain('*** Adding hosts:\nh1 h2 h3 \n*** Adding switches:\ns1 \n');
expect(booted).to.deep.equal(['h3 1 of 1']);

step('nodes as objects');
const [h1, h2, h3] = await net.get('h1', 'h2', 'h3') as [Host, Host, Host];
const sw = await net.get('s1');
expect(sw).to.be.instanceOf(Switch);
expect(h3).to.be.instanceOf(Host);
expect(h3.pythonClass).to.equal('KVMHost');
expect(await net.get('h1')).to.equal(h1);   // one object per node
expect(names(await net.hosts())).to.deep.equal(['h1', 'h2', 'h3']);
expect(names(await net.switches())).to.deep.equal(['s1']);
expect(await net.controllers()).to.deep.equal([]);
expect(await net.keys()).to.deep.equal(['h1', 'h2', 'h3', 's1']);
expect((await net.items()).map(([name, node]) => [name, node.name])).to.deep.equal([['h1', 'h1'], ['h2', 'h2'], ['h3', 'h3'], ['s1', 's1']]);
expect(await net.addController('c0')).to.equal(null);   // the network's controller class is none
expect(await (sw as Switch).connected()).to.equal(true);
expect(await (sw as Switch).defaultDpid()).to.equal('0000000000000001');
expect(await net.waitConnected(5)).to.equal(true);
expect(await h1.pid()).to.be.above(1);

step('pingAll, pingPair, pingFull');
expect(await net.pingAll()).to.equal(0);
expect(await net.pingPair()).to.equal(0);
const [[src, dst, [sent, received, , rttavg]]] = await net.pingFull([h1, h2], 2);
expect([src.name, dst.name, sent, received]).to.deep.equal(['h1', 'h2', 1, 1]);
expect(rttavg).to.be.above(0);

step('interfaces of a host: names, MACs, addresses');
const [intf] = await h1.intfList();
expect(intf!.name).to.equal('h1-eth0');
expect(await h1.intfNames()).to.deep.equal(['h1-eth0']);
expect([...(await h1.intfs())].map(([port, i]) => [port, i.name])).to.deep.equal([[0, 'h1-eth0']]);
expect(await h1.IP()).to.equal('10.0.0.1');
expect(await intf!.IP()).to.equal('10.0.0.1');
const mac = await h1.MAC();
expect(mac).to.match(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
expect(await intf!.isUp()).to.equal(true);
expect(await intf!.status()).to.equal('OK');
const [[mine, theirs]] = await h1.connectionsTo(sw);
expect([mine!.name, theirs!.name, theirs!.node.name]).to.deep.equal(['h1-eth0', 's1-eth1', 's1']);
expect(await h3.intfNames()).to.deep.equal(['h3-eth0']);
expect(await h3.IP()).to.equal('10.0.0.3');
expect(await h3.cmd('ip -o link show h3-eth0')).to.contain((await h3.MAC())!);

step('links as objects: classes, ends, status, TCLink parameters, the SR-IOV link');
const links = await net.links();
expect(links.map((l) => [l.pythonClass, l.intf1.name, l.intf2.name])).to.deep.equal([
  ['Link', 'h1-eth0', 's1-eth1'], ['TCLink', 'h2-eth0', 's1-eth2'], ['SRIOVLink', 'h3-eth0', 's1-eth3']]);
expect(await links[0]!.status()).to.equal('(OK OK)');
expect(await links[2]!.status()).to.match(/^\(OK OK\) \(SR-IOV emulated, VLAN \d+\)$/);
expect(await links[0]!.intfName(h1, 7)).to.equal('h1-eth7');
const shaped = links[1]!.intf1;
expect(shaped).to.be.instanceOf(TCIntf);
const qdiscs = await (shaped as TCIntf).tc('%s qdisc show dev %s');
expect(qdiscs).to.match(/qdisc htb 5: root/);
expect((await shaped.link())!.intf2.node.name).to.equal('s1');
const [server, client] = await net.iperf([h1, h2], { seconds: 2 });
expect(server, `${server} | ${client}`).to.match(/^[\d.]+ Mbits\/sec$/);
expect(Number.parseFloat(server!), `${server} | ${client}`).to.be.below(12);

step('configLinkStatus down: no ping; up: ping again');
await net.configLinkStatus('h1', 's1', 'down');
expect(await intf!.isUp()).to.equal(false);
expect(await net.ping([h1, h2], 1)).to.equal(100);
await net.configLinkStatus(h1, sw, 'up');
let lost = 100;
for (let i = 0; i < 3 && lost; i++) lost = await net.ping([h1, h2], 2);
expect(lost).to.equal(0);

step('sendCmd, waitOutput, monitor, pexec, popen');
await h1.sendCmd('echo', 'sent');
expect(await h1.waiting()).to.equal(true);
expect(await h1.waitOutput()).to.equal('sent\r\n');
await h2.sendCmd('sleep 0.2; echo monitored');
let monitored = '';
while (await h2.waiting()) monitored += await h2.monitor(5000);
expect(monitored).to.contain('monitored');
await h1.cmd('(for i in 1 2 3; do sleep 0.5; echo line$i; done) &');
const seen: string[] = [];
for await (const [host, line] of net.monitor([h1], 5000)) {
  if (host === null) break;   // 5 s with nothing: fail below
  seen.push(`${host.name} ${line.trim()}`);
  if (line.includes('line3')) break;
}
expect(seen).to.include.members(['h1 line1', 'h1 line2', 'h1 line3']);
for (const host of [h1, h3]) {
  expect(await host.pexec(['sh', '-c', 'echo out; echo err >&2; exit 3'])).to.deep.equal(['out\n', 'err\n', 3]);
}
const p = await h3.popen('ping -c 2 -i 0.2 10.0.0.1');
const pinged: string[] = [];
for await (const line of p.lines()) pinged.push(line);
expect(await p.wait()).to.equal(0);
expect(p.pid).to.be.above(1);
expect(pinged.join('')).to.contain('2 packets transmitted, 2 received');

step('a switch and a host added at run time: setIP, setMAC, delLinkBetween, delLink, delHost, delSwitch');
const s9 = await net.addSwitch('s9');
const h9 = await net.addHost('h9', { kind: 'namespace' });
const edge = await net.addLink(h9, s9);
const trunk = await net.addLink(s9, 's1');
expect(trunk).to.be.instanceOf(Link);
expect([edge.intf1.name, edge.intf2.name, trunk.intf1.name, trunk.intf2.name]).to.deep.equal(['h9-eth0', 's9-eth1', 's9-eth2', 's1-eth4']);
await s9.start();
await h9.setIP('10.0.0.9', 8);
await h9.setMAC('00:00:00:00:00:09');
expect([await h9.IP(), await h9.MAC()]).to.deep.equal(['10.0.0.9', '00:00:00:00:00:09']);
expect(await (await h9.defaultIntf())!.updateAddr()).to.deep.equal(['10.0.0.9', '00:00:00:00:00:09']);
expect(await net.ping([h9, h1], 2)).to.equal(0);
const deleted = await net.delLinkBetween(h9, s9);
expect(deleted.map(String)).to.deep.equal(['h9-eth0<->s9-eth1']);
await net.delLink(trunk);
expect(await net.linksBetween(s9, 's1')).to.deep.equal([]);
await net.delHost(h9);
await net.delSwitch(s9);
expect(await net.keys()).to.deep.equal(['h1', 'h2', 'h3', 's1']);

step('progress events after the start: cmdPrint, the CLI');
const later: string[] = [];
net.on('progress', (e) => { if (e.kind === 'log') later.push(e.text); });
await h1.cmdPrint('echo', 'printed');
const dir = mkdtempSync(join(tmpdir(), 'mnkvm-cli-'));
try {
  writeFileSync(join(dir, 'script'), 'h2 echo cli-ran\n');
  await net.cli({ script: join(dir, 'script') });
} finally {
  rmSync(dir, { recursive: true });
}
expect(later.join('')).to.contain('printed').and.to.contain('cli-ran');

step('errors by kind');
await fails(() => net.get('nope'), (e) => {
  expect(isMnkvmError(e, 'usage'), String(e)).to.equal(true);
  expect((e as Error).message).to.equal('no node named nope in this network');
});
await fails(() => net.addHost('h8', { kind: 'kvm', mem: 100 }), (e) => {
  expect(isMnkvmError(e, 'usage'), String(e)).to.equal(true);
  expect((e as Error).message).to.equal('KVM host option mem=100: must be a whole number >= 160');
});
await fails(() => net.addSwitch('lo'), (e) => {
  if (!isMnkvmError(e, 'clash')) throw e;
  expect([e.details.name, e.details.holder]).to.deep.equal(['lo', 'machine']);
});
await fails(() => intf!.setIP('10.0.0.1'), (e) => {
  if (!isMnkvmError(e, 'mininet')) throw e;
  expect(e).to.be.instanceOf(MininetError);
  expect(e.details.pythonType).to.equal('Exception');
  expect(e.message).to.equal('No prefix length set for IP address 10.0.0.1');
});
expect(await net.pingAll()).to.equal(0);   // nothing above broke the network

step('stop: nothing of the network keeps the program alive (a timer left behind kept it 20 s)');
await net.stop();
// (what the stop's own short waits left has fired 3 s later; this wait's timer, too)
await new Promise((r) => setTimeout(r, 3000));
expect(process.getActiveResourcesInfo()).to.not.include('Timeout');

step('done');
