// The start-up benchmark runs and reports what it promises (figures are not judged here).
import { expect } from 'chai';
import { expectClean, mnkvm } from './helpers.js';
import type { LatencySummary, StartupResult } from '../src/bench/results.js';
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
    for (const x of report.results) expect(x.samples, x.kind).to.be.above(0);
    expect(markdown(report)).to.match(/^\| kvm-sriov \(SR-IOV emulated\) \| idle \| 1 \|/m);
    const bad = await mnkvm(['bench', 'latency', '--links', 'virtio']);
    expect(bad.code).to.equal(1);
    expect(bad.err).to.equal('mnkvm: --links virtio: give veth, sriov or veth,sriov\n');
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
