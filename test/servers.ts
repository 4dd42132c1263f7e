// A network spread over the virtual testbed's two servers (mnkvm --servers),
// run by test/testbed.test.ts once its servers are prepared: placement,
// pingall and iperf across servers (from mnkvm, and from TypeScript:
// examples/servers.ts), a script's own placement, SIGKILL, an unreachable
// server, and mnkvm -c on the servers.
import { expect } from 'chai';
import type { BenchReport, StartupResult } from '../src/bench/results.js';
import { mnkvm, Mnkvm, program, SCRIPTS, TEST_ENV } from './helpers.js';
import { bound } from './speed.js';
import { join } from 'node:path';

export const SERVERS = ['--servers', 'tb1,tb2'];

/** mnkvm's bootTimeout (120 s) scaled by the speed factor, for KVM hosts that boot nested on the testbed's servers (s). */
export const nestedBootTimeout = (): string => String(Math.round(bound(120_000) / 1000));

/** A run's environment where KVM hosts boot nested on the testbed's servers. */
export function NESTED(): { env: NodeJS.ProcessEnv } {
  return { env: { ...TEST_ENV, MNKVM_BOOT_TIMEOUT: nestedBootTimeout() } };
}

/** What a server has of mnkvm runs: their records, libvirt domains, interfaces besides lo and its NICs, and VFs with a MAC or VLAN set. */
async function leftOn(server: string): Promise<string> {
  const r = await mnkvm(['testbed', 'ssh', server, '--',
    'ls /run/mnkvm | grep ^run-; virsh -q -c qemu:///system list --all --name; ip -br link | grep -v -e ^lo -e ^enp | cut -d" " -f1; ' +
    'for pf in /sys/class/net/enp*; do ip link show ${pf##*/} | grep -E "^ +vf " | grep -v "link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff, spoof"; done; true']);
  return r.out.trim();
}

/** What "*** Placing nodes" says: node:server ... (a placer may say more there). */
export function placement(out: string): Record<string, string> {
  const said = /\*\*\* Placing nodes\n((.|\n)*?)\*\*\* Creating network/.exec(out)?.[1] ?? '';
  return Object.fromEntries([...said.matchAll(/\b(\w+):(tb\d+)\b/g)].map((m) => [m[1], m[2]]));
}

export async function spreadOverServers(log: (line: string) => void): Promise<void> {
  // (each step's seconds in the log: where the suite's time goes)
  let t = Date.now();
  const took = (what: string) => { log(`${what}: ${((Date.now() - t) / 1000).toFixed(0)} s, nested virtual testbed`); t = Date.now(); };
  // linear,4: switch-bin placement, hosts with their switches, pingall over the tunnel
  let r = await mnkvm([...SERVERS, '--topo', 'linear,4', '--test', 'pingall']);
  took('mnkvm --servers tb1,tb2 --topo linear,4 --test pingall (namespace hosts)');
  expect(r.code, r.out + r.err).to.equal(0);
  expect(r.err).to.match(/^\*\*\* tb1: QEMU \d+\.\d+\.\d+, .*data 10\.99\.0\.1 on \w+ \(MTU 9000\), 7 VFs, clock [-+]\d+\.\d+ s$/m);
  expect(placement(r.err)).to.deep.equal({ h1: 'tb1', h2: 'tb1', h3: 'tb2', h4: 'tb2', s1: 'tb1', s2: 'tb1', s3: 'tb2', s4: 'tb2' });
  expect(r.err).to.contain('*** Results: 0% dropped (12/12 received)');
  // the same network from TypeScript (examples/servers.ts): the same placement, pingall, and each host on its server
  const ts = await program(join('examples', 'servers.js'), ['tb1,tb2']);
  took('node dist/examples/servers.js tb1,tb2 (namespace hosts)');
  expect(ts.code, ts.out + ts.err).to.equal(0);
  expect(placement(ts.err)).to.deep.equal(placement(r.err));
  expect(ts.err).to.contain('*** Results: 0% dropped (12/12 received)');
  expect(ts.out).to.equal(['h1', 'h2', 'h3', 'h4'].map((h) => `${h} runs on ${placement(r.err)[h]}\n`).join(''));

  // hostswitchbin placement in Mininet's CLI, whose net and dump say where nodes run (switchbin: above;
  // roundrobin: the start-up benchmark below; random and more: npm run test:scale)
  const cli = new Mnkvm([...SERVERS, '--placement', 'hostswitchbin', '--topo', 'linear,2']);
  await cli.waitFor(/mininet> $/, { stdoutOnly: true });
  cli.send('pingall\nnet\ndump\n');
  await cli.waitFor(/<LinuxBridge s2: .* server=\w+> \n/);
  cli.send('exit\n');
  r = await cli.done;
  expect(r.code, r.err).to.equal(0);
  expect(placement(r.err)).to.deep.equal({ h1: 'tb1', h2: 'tb2', s1: 'tb1', s2: 'tb2' });
  expect(r.err).to.contain('0% dropped (2/2 received)');
  const where = placement(r.err);
  // (the CLI's net and dump print on stderr, as Mininet's log does)
  expect(r.err).to.match(new RegExp(`^${where.h1}: .*\\bh1\\b`, 'm'));
  expect(r.err).to.match(new RegExp(`<Host h1: h1-eth0:10\\.0\\.0\\.1 pid=\\d+ server=${where.h1}>`));
  took('hostswitchbin placement in the CLI');

  // a script's own placement (server=), a TCLink between servers, SR-IOV links between servers and
  // within one, cmd/sendCmd/popen there, a link added at run time
  await spreadScript([], 'namespace hosts', log);
  took('spread.py (namespace hosts)');

  // KVM hosts on servers: domains of each server's libvirtd (over qemu+ssh), nested KVM there; the same
  // script: cmd, sendCmd and popen run in the guests, iperf and TCLink across servers, SR-IOV links
  // made by each server's mnkvm (its VF pool, in its record), addLink at run time
  await spreadScript(['--host', 'kvm,backend=libvirt'], 'KVM hosts (nested KVM)', log);
  took('spread.py (KVM hosts)');
  // the start-up benchmark over both servers, hosts spread by roundrobin (figures are not judged here);
  // namespace hosts (KVM hosts on servers: spread.py above; the bench's KVM hosts there: npm run test:scale)
  await benchOverServers(['--kinds', 'namespace'], [['namespace', 'servers tb1,tb2, roundrobin', 0]]);
  took('mnkvm bench startup over the servers (namespace hosts)');
  // the QEMU backend runs guests on this machine only: one line
  r = await mnkvm([...SERVERS, '--topo', 'single,2', '--host', 'kvm']);
  expect(r.code).to.equal(1);
  expect(r.err).to.match(/^mnkvm: h1: a KVM host on a server \(tb1\) runs under that server's libvirtd: give backend=libvirt/m);
  expect(await leftOn('tb1')).to.equal('');
  expect(await leftOn('tb2')).to.equal('');

  // a server that does not answer: one line, nothing started on the other
  r = await mnkvm(['--servers', 'tb1,root@127.0.0.1:1', '--topo', 'linear,2']);
  expect(r.code).to.equal(1);
  expect(r.err).to.match(/^mnkvm: root@127\.0\.0\.1:1: cannot reach it over SSH /);
  expect(await leftOn('tb1')).to.equal('');
  took('two refusals');

  await killDuringBuild(log);
}

/**
 * SIGKILL while the network is built: each server removes what the run made there by itself, once
 * its connection closes or the run stops saying it is alive (20 s: QEMU's user network may leave
 * the connection half open). (KVM hosts: their domains, taps and guest folders too, and their SR-IOV
 * links' VFs put back as they were; killed once the guests are being wired.)
 */
export async function killDuringBuild(log: (line: string) => void, topo = 'linear,2'): Promise<void> {
  const killed = new Mnkvm([...SERVERS, '--topo', topo, '--host', 'kvm,backend=libvirt', '--link', 'sriov', '--test', 'pingall'], NESTED());
  await killed.waitFor(/\*\*\* Configuring hosts/);
  killed.signal('SIGKILL', false);
  await killed.done;
  const t = Date.now();
  for (const server of ['tb1', 'tb2']) {
    while ((await leftOn(server)) !== '' && Date.now() - t < bound(90_000)) await new Promise((res) => setTimeout(res, 1000));
    expect(await leftOn(server), server).to.equal('');
  }
  log(`after SIGKILL of mnkvm, both servers clean after ${((Date.now() - t) / 1000).toFixed(0)} s`);
}

/** mnkvm bench startup over both servers, hosts spread by roundrobin (options: its kinds): the kinds, where and pingall's loss of each run. */
export async function benchOverServers(options: string[], expected: [string, string, number][]): Promise<void> {
  const r = await mnkvm(['bench', 'startup', ...SERVERS, '--placement', 'roundrobin', '--hosts', '2', '--repeat', '1', '--json',
    '--boot-timeout', nestedBootTimeout(), ...options], NESTED());
  expect(r.code, r.err).to.equal(0);
  const bench = JSON.parse(r.out) as BenchReport<StartupResult>;
  expect(bench.options).to.deep.include({ servers: ['tb1', 'tb2'], placement: 'roundrobin', images: ['default'], hosts: [2] });
  expect(bench.runs.map((run) => [run.kind, run.where, run.pingDroppedPercent])).to.deep.equal(expected);
  expect(await leftOn('tb1')).to.equal('');
  expect(await leftOn('tb2')).to.equal('');
}

/** spread.py over both servers (options: its hosts' class), with its figures logged as what. */
async function spreadScript(options: string[], what: string, log: (line: string) => void): Promise<void> {
  const r = await mnkvm(['run', join(SCRIPTS, 'spread.py'), ...SERVERS, ...options], NESTED());
  expect(r.code, r.out + r.err).to.equal(0);
  const spread = JSON.parse(/^SPREAD (.*)$/m.exec(r.out)?.[1] ?? 'null') as Record<string, unknown> & { iperf: string[] };
  // (a KVM host's guest is named as the host; a namespace host's hostname is its server's)
  const kvm = options.length > 0;
  expect(spread, r.out + r.err).to.include({ loss: 0, cmd: kvm ? 'h2' : 'tb2', sendCmd: kvm ? 'h2' : 'tb2', popen: kvm ? 'h3' : 'tb2' });
  expect(spread.servers).to.deep.equal({ s1: 'tb1', s2: 'tb2', s3: 'tb1', h1: 'tb1', h2: 'tb2', h3: 'tb2', h5: 'tb1' });
  for (const pair of ['within', 'across']) {
    const figures = spread[pair] as { ping: string; iperf: string[] };
    log(`link ${pair} servers (h1-${pair === 'within' ? 'h5' : 'h3'}, ${what}, nested virtual testbed): ${figures.ping}; iperf ${figures.iperf.join(', ')}`);
    expect(figures.ping).to.match(/^rtt min\/avg\/max\/mdev = /);
  }
  expect(spread.fullSize).to.contain('1 received');
  // SR-IOV: h1-h2 between the servers (a VF each on the cabled PFs), h1 and h5 on s3 within tb1
  const sriov = spread.sriov as { links: string[]; across: string; within: string };
  expect(sriov.links[0], r.out).to.match(/\(SR-IOV: PF tb1:enp\w+ tb2:enp\w+, VLAN \d+\)$/);
  expect(sriov.across, r.out).to.contain('3 received');
  expect(sriov.within, r.out).to.contain('3 received');
  log(`SR-IOV link between servers (${what}, VFs of the cabled emulated igb PFs): ${/rtt .*/.exec(sriov.across)?.[0]}`);
  expect(spread.added).to.contain('2 received');
  const bw = Number(/^([\d.]+) Mbits/.exec(spread.iperf[0])?.[1]);
  log(`TCLink bw=10 between tb1 and tb2 (${what}): iperf ${spread.iperf.join(', ')}`);
  expect(bw, spread.iperf.join()).to.be.within(3, 11);
  expect(await leftOn('tb1')).to.equal('');
  expect(await leftOn('tb2')).to.equal('');
}

/**
 * mnkvm -c cleans the servers a run used, even where the server's own
 * record keeper was killed too (its guard with it): the last check, as
 * mnkvm -c takes the testbed down after it.
 */
export async function cleanAcrossServers(): Promise<void> {
  const run = new Mnkvm([...SERVERS, '--topo', 'linear,2']);
  await run.waitFor(/mininet> $/, { stdoutOnly: true });
  // tb1 loses its keeper and the keeper's guard: its record stays, with s1 and its ports
  let r = await mnkvm(['testbed', 'ssh', 'tb1', '--', 'cd /run/mnkvm/run-*/ && kill -9 $(cat guard.pid) && sleep 0.5 && kill -9 $(python3 -c "import json; print(json.load(open(\'owner.json\'))[\'pid\'])")']);
  expect(r.code, r.err).to.equal(0);
  run.signal('SIGKILL', false);
  await run.done;
  expect(await leftOn('tb1')).to.match(/^run-\d+-\d+\n(.|\n)*\bs1\b/);
  r = await mnkvm(['-c']);
  expect(r.code, r.err).to.equal(0);
  expect(r.out).to.match(/^\*\*\* tb1: \/run\/mnkvm\/run-\d+-\d+: .*\bbridges?\b/m);
  expect(r.out).to.match(/run-testbed: 2 VMs, 2 files/);
}
