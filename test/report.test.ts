// mnkvm bench all, then mnkvm report: every scenario's JSON (raw figures,
// spread over repetitions, environment) and an HTML report whose plots
// headless Chromium lays out. Figures are not judged here: benchmarks are.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  RATE_TOLERANCE, rateNotes, timerSamples, type BenchReport, type LatencyRun, type LatencySummary, type StartupResult, type ThroughputRun, type ThroughputSummary,
} from '../src/bench/results.js';
import { expectClean, mnkvm } from './helpers.js';
import { bound } from './speed.js';

const PLOTS = ['startup-ready', 'startup-memory', 'latency-cdf', 'latency-percentiles', 'latency-timer-cdf', 'latency-timer-percentiles',
  'throughput-mbps', 'isolation-cdf', 'isolation-percentiles', 'isolation-timer-cdf', 'isolation-timer-percentiles'];

describe('mnkvm bench all and mnkvm report', function () {
  let dir = '';
  const read = <R, S>(name: string) => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as BenchReport<R, S>;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'mnkvm-bench-')); });
  afterEach(expectClean);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every scenario for namespace and KVM hosts, repeated, with raw samples, spreads and the environment', async () => {
    const r = await mnkvm(['bench', 'all', '--hosts', '2', '--repeat', '2', '--rate', '200', '--duration', '2', '--iperf-duration', '2', '--out', dir],
      { timeoutMs: 900_000 });
    expect(r.code, r.out + r.err).to.equal(0);
    // progress: scenario, repetition, time left
    expect(r.err).to.match(/\*\*\* bench latency: kvm run 2\/2 \(\d+ of 16, \d+:\d\d elapsed, about \d+:\d\d left\)/);
    expect(r.out).to.include(`mnkvm report ${dir}`);

    const startup = read<StartupResult, StartupResult>('startup');
    expect(startup.runs.map((x) => `${x.kind}/${x.hosts}/${x.repetition}`)).to.deep.equal([
      'namespace/2/1', 'kvm/2/1', 'namespace/2/2', 'kvm/2/2']);
    expect(startup.environment).to.include.keys('kernel', 'kernelCmdline', 'cpuModel', 'cpuGovernor', 'isolatedCpus', 'bridgeNetfilter', 'accel',
      'qemu', 'mininet', 'node', 'mnkvm', 'gitCommit', 'command');
    expect(startup.environment.command).to.include('bench all --hosts 2 --repeat 2');

    for (const scenario of ['latency', 'isolation']) {
      const report = read<LatencyRun, LatencySummary>(scenario);
      expect(report.runs.map((x) => `${x.kind}/${x.repetition}/${x.loaded}`)).to.deep.equal(
        ['namespace', 'kvm', 'namespace', 'kvm'].map((k, i) => `${k}/${i < 2 ? 1 : 2}/${scenario === 'isolation'}`));
      for (const run of report.runs) {
        expect(run.rttUs.length, `${scenario} ${run.kind}`).to.be.above(50);
        // the rate asked, and the rate sockperf sent at while it timed the round trips kept
        expect(run.rate).to.equal(200);
        expect(run.achievedRate, `${scenario} ${run.kind}`).to.be.a('number').and.above(0);
        // idle, nothing keeps the probe from its rate (sockperf 3.7 with --no-rdtsc sent 200 / TSC GHz)
        if (!run.loaded) expect(Math.abs(run.achievedRate / run.rate - 1), `${run.kind}: ${run.achievedRate} msg/s`).to.be.at.most(RATE_TOLERANCE);
        expect(run.rttUs.every((v) => v > 0)).to.equal(true);
        expect(run.ping?.avgMs).to.be.above(0);
        // the timer in h1 (cyclictest) after the round trips, as long: wake-ups every 200 µs, none pinned (no tuned host)
        const timer = run.timer!;
        expect(timer, `${scenario} ${run.kind}`).to.include({ intervalUs: 200, priority: 95, seconds: 2, cpu: null });
        expect(timerSamples(timer), `${scenario} ${run.kind}`).to.be.above(0).and.at.most(2 * 5000);
        expect(timer.histogramUs.every(([, count]) => count > 0)).to.equal(true);
        expect(timer.maxUs).to.be.at.least(timer.histogramUs.at(-1)![0]);
        expect(run.probeCpu).to.equal(undefined);
      }
      for (const s of report.results) {
        expect(s.rate).to.equal(200);
        expect(s.achievedRate?.min).to.equal(Math.min(...report.runs.filter((x) => x.kind === s.kind).map((x) => x.achievedRate)));
        const order = ['p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max'].map((p) => s.percentilesUs[p]);
        for (const p of order) expect(p.min).to.be.at.most(p.median).and.at.most(p.max);
        for (let i = 1; i < order.length; i++) expect(order[i].median).to.be.at.least(order[i - 1].median);
        expect(s.percentilesUs.max.max).to.equal(Math.max(...report.runs.filter((x) => x.kind === s.kind).flatMap((x) => x.rttUs)));
        const timer = ['p50', 'p99', 'p99.9', 'max'].map((p) => s.timerUs![p]);
        for (let i = 1; i < timer.length; i++) expect(timer[i].median).to.be.at.least(timer[i - 1].median);
        expect(s.timerUs!.max.max).to.equal(Math.max(...report.runs.filter((x) => x.kind === s.kind).map((x) => x.timer!.maxUs)));
      }
    }

    const throughput = read<ThroughputRun, ThroughputSummary>('throughput');
    expect(throughput.runs).to.have.length(4);
    for (const run of throughput.runs) {
      expect(Object.keys(run.flows)).to.deep.equal(['tcp h1->h2', 'tcp h2->h1', 'udp h1->h2', 'udp h2->h1']);
      for (const flow of Object.values(run.flows)) expect(flow.mbps).to.be.above(0);
    }
  });

  it('renders an HTML report whose plots headless Chromium lays out, and a Markdown summary', async () => {
    const r = await mnkvm(['report', dir]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out.split('\n')).to.include.members([join(dir, 'report.html'), join(dir, 'summary.md')]);
    const { stdout: dom } = await promisify(execFile)('chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${join(dir, 'report.html')}`], { timeout: bound(120_000) });
    // the report's own script counts the plots laid out with data in them
    expect(dom).to.match(new RegExp(`<body data-plots-rendered="${PLOTS.length}"`));
    for (const id of PLOTS) expect(dom).to.match(new RegExp(`<svg class="plot" id="${id}"[^>]*>[\\s\\S]*?<(polyline|rect) class="(series|bar)"`));
    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    for (const title of ['Start-up', 'Latency', 'Throughput', 'Isolation']) expect(summary).to.include(`## ${title}`);
    // median (range) over 2 runs, after the rate sent of the rate asked
    expect(summary).to.match(/\| kvm \| idle \| 2 \| \d+ \| [\d.]+( \([\d.]+–[\d.]+\))? of 200 \| [\d.]+ \([\d.]+–[\d.]+\) \|/);
    // the timer's table, under the round trips': wake-ups, then p50, p99, p99.9 and max
    expect(summary).to.match(/\| kind \| load \| runs \| wake-ups \| p50 \(µs\) \| p99 \(µs\) \| p99\.9 \(µs\) \| max \(µs\) \|\n[-| ]+\n\| namespace \| idle \| 2 \| \d+ \| \d+/);
    // next to the figures, where a run sent more than 5 % off the rate asked (isolation's loaded guests may)
    for (const scenario of ['latency', 'isolation']) {
      const report = read<LatencyRun, LatencySummary>(scenario);
      const notes = rateNotes(report.results);
      const off = report.runs.filter((x) => Math.abs(x.achievedRate / x.rate - 1) > RATE_TOLERANCE);
      expect(new Set(notes.map((n) => n.split(',')[0])), scenario).to.deep.equal(new Set(off.map((x) => x.kind)));
      for (const note of notes) {
        expect(summary).to.include(`\n> ⚠ ${note}\n`);
        expect(dom).to.include(`<p class="warning rate">⚠ ${note}</p>`);
      }
    }
  });

  it('says in one line what to do when there is nothing to draw', async () => {
    const missing = await mnkvm(['report', join(dir, 'nope')]);
    expect(missing.code).to.equal(1);
    expect(missing.err.trim()).to.match(/^mnkvm: .*nope not found: give the folder of `mnkvm bench all --out DIR`$/);
    const empty = mkdtempSync(join(tmpdir(), 'mnkvm-empty-'));
    try {
      const r = await mnkvm(['report', empty]);
      expect(r.code).to.equal(1);
      expect(r.err.trim()).to.match(/^mnkvm: .* has no benchmark results \(startup\.json, .*\): run `mnkvm bench all --out .*` first$/);
      expect(existsSync(join(empty, 'report.html'))).to.equal(false);
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});
