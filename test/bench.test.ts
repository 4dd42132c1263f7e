// The start-up benchmark runs and reports what it promises (figures are not judged here).
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { expectClean, mnkvm } from './helpers.js';
import type { LatencyRun, LatencySummary, StartupResult } from '../src/bench/results.js';
import { markdown, type BenchReport } from '../src/bench/results.js';

describe('mnkvm bench startup', function () {
  afterEach(expectClean);

  it('measures namespace and KVM hosts in one run, repeated, as JSON with medians and its environment', async () => {
    const r = await mnkvm(['bench', 'startup', '--hosts', '2', '--repeat', '2', '--json']);
    expect(r.code, r.err).to.equal(0);
    const report = JSON.parse(r.out) as { environment: Record<string, unknown>; results: StartupResult[]; runs: StartupResult[] };
    expect(report.runs.map((x) => `${x.kind}/${x.hosts}/${x.repetition}`)).to.deep.equal(
      ['namespace/2/1', 'kvm/2/1', 'namespace/2/2', 'kvm/2/2']);
    const kvmRuns = report.runs.filter((x) => x.kind === 'kvm').map((x) => x.readySeconds).sort();
    expect(report.results[1].readySeconds).to.equal((kvmRuns[0] + kvmRuns[1]) / 2);
    expect(report.environment).to.include.keys('kernel', 'cpuModel', 'accel', 'qemu', 'mininet', 'gitCommit', 'command');
    expect(report.results.map((x) => `${x.kind}/${x.hosts}`)).to.deep.equal(['namespace/2', 'kvm/2']);
    for (const x of report.results) {
      expect(x.pingDroppedPercent).to.equal(0);
      expect(x.readySeconds).to.be.above(0);
      expect(x.firstCmdSeconds).to.be.above(0);
      expect(x.rssPerHostKiB).to.be.above(0);
    }
    const [ns, kvm] = report.results;
    expect(kvm.rssPerHostKiB).to.be.above(ns.rssPerHostKiB);   // a VM holds its guest's memory
  });

  it('--links veth,sriov: namespace hosts, KVM hosts with virtio links and KVM hosts with SR-IOV links side by side, each saying where its links ran', async () => {
    const r = await mnkvm(['bench', 'latency', '--links', 'veth,sriov', '--repeat', '1', '--rate', '200', '--duration', '2', '--json']);
    expect(r.code, r.err).to.equal(0);
    const report = JSON.parse(r.out) as BenchReport<unknown, LatencySummary>;
    // this machine has no SR-IOV NIC: the SR-IOV kind ran emulated, and says so
    expect(report.results.map((x) => [x.kind, x.where ?? null])).to.deep.equal(
      [['namespace', null], ['kvm', null], ['kvm-sriov', 'SR-IOV emulated']]);
    for (const x of report.results) {
      expect(x.samples, x.kind).to.be.above(0);
      expect(x.timerSamples, x.kind).to.be.above(0);   // the timer in h1 (cyclictest), after the round trips
    }
    expect(markdown(report)).to.match(/^\| kvm-sriov \(SR-IOV emulated\) \| idle \| 1 \|/m);
    const bad = await mnkvm(['bench', 'latency', '--links', 'virtio']);
    expect(bad.code).to.equal(1);
    expect(bad.err).to.equal('mnkvm: --links virtio: give veth, sriov or veth,sriov\n');
  });

  it('--kinds: namespace hosts beside KVM hosts whose h1 is tuned (tune=latency, cpus=2, cores=1), its probes on its isolated vCPU, each labelled', async () => {
    // (as test/tune.test.ts: the test reserves the hugepages the tuned guest needs, mem=256 on 128 of 2 MiB, and gives them back)
    const NR = '/proc/sys/vm/nr_hugepages';
    const before = Number(readFileSync(NR, 'utf8').trim());
    writeFileSync(NR, String(before + 128));
    try {
      const r = await mnkvm(['bench', 'latency', '--kinds', 'namespace,kvm:tune=latency:cpus=2:cores=1', '--repeat', '1', '--rate', '200', '--duration', '2', '--json']);
      expect(r.code, r.err).to.equal(0);
      expect(r.err).to.match(/\*\*\* bench latency: kvm tune=latency cpus=2 cores=1 run 1\/1 \(2 of 2, /);
      const report = JSON.parse(r.out) as BenchReport<LatencyRun, LatencySummary>;
      expect(report.results.map((x) => [x.kind, x.options ?? null, x.optionsOn ?? null])).to.deep.equal(
        [['namespace', null, null], ['kvm', { tune: 'latency', cpus: 2, cores: [1] }, 'h1']]);
      const [ns, tuned] = report.runs;
      // a tuned h1's probes (sockperf's client, cyclictest's thread) on its isolated vCPU 1; elsewhere not pinned
      expect([ns.probeCpu, ns.timer?.cpu]).to.deep.equal([undefined, null]);
      expect([tuned.probeCpu, tuned.timer?.cpu]).to.deep.equal([1, 1]);
      for (const x of report.results) {
        expect(x.samples, x.kind).to.be.above(0);
        expect(x.timerSamples, x.kind).to.be.above(0);
      }
      expect(report.options).to.deep.include({ kinds: ['namespace', 'kvm tune=latency cpus=2 cores=1'] });
      const md = markdown(report);
      expect(md).to.match(/^\| kvm tune=latency cpus=2 cores=1 \| idle \| 1 \| \d+ \| /m);
      expect(md).to.include('its other hosts are plain: kvm tune=latency cpus=2 cores=1 on h1.');
    } finally {
      writeFileSync(NR, String(before));
    }
    const bad = await mnkvm(['bench', 'latency', '--kinds', 'namespace:tune=latency']);
    expect(bad.code).to.equal(1);
    expect(bad.err).to.equal('mnkvm: --kinds namespace:tune=latency: namespace hosts take no host options (KVM kinds do, as kvm:tune=latency:cpus=2)\n');
  });

  it('--images: KVM hosts of each guest image measured as a kind of their own (here the Debian image setup.sh builds)', async () => {
    const r = await mnkvm(['bench', 'startup', '--hosts', '1', '--repeat', '1', '--images', 'default,test-debian', '--json']);
    expect(r.code, r.err).to.equal(0);
    const report = JSON.parse(r.out) as BenchReport<StartupResult, StartupResult>;
    expect(report.results.map((x) => [x.kind, x.image ?? null])).to.deep.equal(
      [['namespace', null], ['kvm', 'default'], ['kvm', 'test-debian']]);
    for (const x of report.results) expect(x.pingDroppedPercent, x.image).to.equal(0);
    expect(report.options).to.deep.include({ images: ['default', 'test-debian'] });
    expect(markdown(report)).to.match(/^\| kvm image=test-debian \| 1 \|/m);
    const bad = await mnkvm(['bench', 'startup', '--images', 'default,nope']);
    expect(bad.code).to.equal(1);
    expect(bad.err).to.equal('mnkvm: --images default,nope: no guest image nope: `mnkvm image list` shows them (`mnkvm image build` or `import` makes one)\n');
  });
});
