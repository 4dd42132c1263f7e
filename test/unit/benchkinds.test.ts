// Kinds with host options side by side (mnkvm bench --kinds kvm:tune=latency:cpus=2), and the timer figure
// beside sockperf's (cyclictest's histogram): labels, summaries, tables and the report's plots, from made-up
// runs (no network, no VM). The spec's side: benchspec.test.ts; cyclictest's output read: test/python/test_bench.py.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fingerprint } from '../../src/bench/fingerprint.js';
import { writeReport } from '../../src/bench/report.js';
import {
  kindLabel, latencySummary, markdown, startupMedians, throughputSummary, timerPercentile, type BenchReport, type HostOptions, type Kind,
  type LatencyRun, type LatencySummary, type StartupResult, type ThroughputRun, type TimerRun,
} from '../../src/bench/results.js';
import { binnedCdfPoints, binnedPercentile } from '../../src/bench/stats.js';

const TUNED: HostOptions = { tune: 'latency', cpus: 2, cores: [1] };

/** A timer run of 1000 wake-ups: 900 at 10 µs, 90 at 20, 9 at 50, and one at top (past the bound where top > 100). */
function timer(top: number): TimerRun {
  const overflows = top > 100 ? 1 : 0;
  const histogramUs: [number, number][] = [[10, 900], [20, 90], [50, 9], ...(overflows ? [] : [[top, 1] as [number, number]])];
  return { intervalUs: 200, priority: 95, cpu: null, seconds: 30, histogramUs, boundUs: 100, overflows, minUs: 10, avgUs: 12, maxUs: top };
}

function run(kind: Kind, repetition: number, extra: Partial<LatencyRun> = {}): LatencyRun {
  return { kind, repetition, rate: 1000, achievedRate: 1000, duration: 30, loaded: false, rttUs: [40, 50, 60, 900], ping: null, ...extra };
}

function report(benchmark: string, runs: LatencyRun[]): BenchReport<LatencyRun, LatencySummary> {
  const environment = { accel: 'tcg', date: '2026-01-01T00:00:00.000Z', command: 'mnkvm bench latency' } as Fingerprint;
  return { benchmark, environment, options: { rate: 1000, duration: 30 }, repeat: 2, results: latencySummary(runs), runs };
}

describe('bench kinds with host options, and the timer figure', function () {
  it('labels a kind by its host options (in the order given), then its image and where its links ran', () => {
    expect(kindLabel({ kind: 'kvm' })).to.equal('kvm');
    expect(kindLabel({ kind: 'kvm', options: {} })).to.equal('kvm');
    expect(kindLabel({ kind: 'kvm', options: TUNED, optionsOn: 'h1' })).to.equal('kvm tune=latency cpus=2 cores=1');
    expect(kindLabel({ kind: 'kvm-sriov', options: { cores: [2, 3], share: null }, image: 'deb', where: 'SR-IOV emulated' }))
      .to.equal('kvm-sriov cores=2+3 share=none image=deb (SR-IOV emulated)');
  });

  it('groups every scenario by that label: a kind with options is a row of its own, beside the plain one', () => {
    const latency = latencySummary([run('kvm', 1), run('kvm', 1, { options: TUNED, optionsOn: 'h1' }), run('kvm', 2), run('kvm', 2, { options: TUNED, optionsOn: 'h1' })]);
    expect(latency.map((s) => [kindLabel(s), s.runs, s.optionsOn ?? null])).to.deep.equal([['kvm', 2, null], ['kvm tune=latency cpus=2 cores=1', 2, 'h1']]);
    const startup = { kind: 'kvm', hosts: 2, repetition: 1, readySeconds: 1 } as StartupResult;
    expect(startupMedians([startup, { ...startup, options: TUNED, readySeconds: 3 }]).map((s) => [kindLabel(s), s.readySeconds]))
      .to.deep.equal([['kvm', 1], ['kvm tune=latency cpus=2 cores=1', 3]]);
    const flows = { 'tcp h1->h2': { mbps: 10, attempts: 1 } };
    const throughput: ThroughputRun[] = [{ kind: 'kvm', repetition: 1, duration: 10, flows }, { kind: 'kvm', repetition: 1, duration: 10, flows, options: TUNED, optionsOn: 'h1' }];
    expect(throughputSummary(throughput).map(kindLabel)).to.deep.equal(['kvm', 'kvm tune=latency cpus=2 cores=1']);
  });

  it('takes percentiles of a histogram by nearest rank, wake-ups past its bound at the exact maximum', () => {
    const bins: [number, number][] = [[10, 900], [20, 90], [50, 9]];
    expect([50, 90, 99, 99.9, 100].map((p) => binnedPercentile([...bins, [70, 1]], 0, 70, p))).to.deep.equal([10, 10, 20, 50, 70]);
    expect([99.9, 99.95, 100].map((p) => binnedPercentile(bins, 1, 4000, p))).to.deep.equal([50, 4000, 4000]);
    expect(Number.isNaN(binnedPercentile([], 0, 0, 50))).to.equal(true);
    expect(binnedCdfPoints(bins, 1, 4000)).to.deep.equal([[10, 0.9], [20, 0.99], [50, 0.999], [4000, 1]]);
    expect(timerPercentile(timer(4000), 100)).to.equal(4000);
  });

  it('summarises the timer beside the round trips: p50, p99, p99.9 and max over the runs, in a table of its own', () => {
    const runs = [
      run('namespace', 1, { timer: timer(70) }), run('kvm', 1, { options: TUNED, optionsOn: 'h1', probeCpu: 1, timer: { ...timer(80), cpu: 1 } }),
      run('namespace', 2, { timer: timer(4000) }), run('kvm', 2, { options: TUNED, optionsOn: 'h1', probeCpu: 1, timer: { ...timer(90), cpu: 1 } }),
    ];
    const [ns, tuned] = latencySummary(runs);
    expect(ns.timerUs).to.deep.equal({
      p50: { median: 10, min: 10, max: 10 }, p99: { median: 20, min: 20, max: 20 }, 'p99.9': { median: 50, min: 50, max: 50 },
      max: { median: 2035, min: 70, max: 4000 },
    });
    expect(ns.timerSamples).to.equal(2000);
    expect(tuned.timerUs?.max).to.deep.equal({ median: 85, min: 80, max: 90 });
    const md = markdown(report('latency', runs));
    expect(md).to.include('\n| kind | load | runs | wake-ups | p50 (µs) | p99 (µs) | p99.9 (µs) | max (µs) |\n');
    expect(md).to.include('\n| namespace | idle | 2 | 2000 | 10 | 20 | 50 | 2035 (70–4000) |\n');
    expect(md).to.include('\n| kvm tune=latency cpus=2 cores=1 | idle | 2 | 2000 | 10 | 20 | 50 | 85 (80–90) |\n');
    expect(md).to.include('\n| kvm tune=latency cpus=2 cores=1 | idle | 2 | 8 | 1000 of 1000 | ');
    expect(md).to.include('\nHost options went to one host of each network, the one measured from; its other hosts are plain: kvm tune=latency cpus=2 cores=1 on h1.\n');
    // runs from before the timer was measured: no timer table, no options line
    const old = markdown(report('latency', [run('namespace', 1), run('kvm', 1)]));
    expect(old).not.to.include('wake-ups');
    expect(old).not.to.include('Host options');
  });

  it('draws the timer beside the round trips in report.html (CDF and percentiles), and only where the runs measured it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnkvm-kinds-'));
    try {
      const write = (name: string, r: BenchReport) => writeFileSync(join(dir, `${name}.json`), JSON.stringify(r));
      write('latency', report('latency', [run('namespace', 1, { timer: timer(70) }), run('kvm', 1, { options: TUNED, optionsOn: 'h1', timer: timer(80) })]));
      // an older file: no timer in its runs
      write('isolation', report('isolation', [run('namespace', 1, { loaded: true }), run('kvm', 1, { loaded: true })]));
      writeReport(dir);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      const plots = [...html.matchAll(/<svg class="plot" id="([^"]+)"/g)].map((m) => m[1]);
      // isolation's timer plots show the idle runs' timer (from latency.json) beside its own, which it has none of
      expect(plots).to.deep.equal(['latency-cdf', 'latency-percentiles', 'latency-timer-cdf', 'latency-timer-percentiles',
        'isolation-cdf', 'isolation-percentiles', 'isolation-timer-cdf', 'isolation-timer-percentiles']);
      for (const id of ['latency-timer-cdf', 'latency-timer-percentiles']) {
        expect(html).to.match(new RegExp(`<svg class="plot" id="${id}"[^>]*>[\\s\\S]*?<(polyline|rect) class="(series|bar)"`));
      }
      expect(html).to.include('<text x="16" font-size="12">kvm tune=latency cpus=2 cores=1</text>');
      // long labels: the legend takes a second row, and the plot grows by it
      expect(html).to.match(/<svg class="plot" id="latency-cdf" [^>]*viewBox="0 0 640 360"/);
      expect(html).to.match(/<svg class="plot" id="isolation-cdf" [^>]*viewBox="0 0 640 376"/);
      // both tables, and the line on the options, in the section
      const latency = /<section id="latency">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
      expect(latency.match(/<table>/g)).to.have.length(2);
      expect(latency).to.include('<th>wake-ups</th>');
      expect(latency).to.include('<p>Host options went to one host of each network');
      const isolation = /<section id="isolation">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
      expect(isolation.match(/<table>/g)).to.have.length(1);
      const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
      expect(summary).to.include('| kvm tune=latency cpus=2 cores=1 | idle | 1 | 1000 | 10 | 20 | 50 | 80 |');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
