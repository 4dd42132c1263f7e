// The latency probe's rate: a run that sent more than 5 % off the rate asked is said to have, next to its
// figures, in `mnkvm bench`'s Markdown, in summary.md and in report.html. Made-up runs: no network, no VM.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fingerprint } from '../../src/bench/fingerprint.js';
import { writeReport } from '../../src/bench/report.js';
import { latencySummary, markdown, rateNote, rateNotes, type BenchReport, type Kind, type LatencyRun, type LatencySummary } from '../../src/bench/results.js';

function run(kind: Kind, repetition: number, achievedRate: number | undefined, loaded = false): LatencyRun {
  const r = { kind, repetition, rate: 1000, achievedRate, duration: 30, loaded, rttUs: [40, 50, 60, 900], ping: null };
  if (achievedRate === undefined) delete r.achievedRate;   // as results written before it was recorded
  return r as LatencyRun;
}

function report(benchmark: string, runs: LatencyRun[]): BenchReport<LatencyRun, LatencySummary> {
  const environment = { accel: 'kvm', date: '2026-01-01T00:00:00.000Z', command: 'mnkvm bench latency' } as Fingerprint;
  return { benchmark, environment, options: { rate: 1000, duration: 30 }, repeat: 2, results: latencySummary(runs), runs };
}

describe('latency probe: rate asked vs rate sent', function () {
  it('says nothing within 5 % of the rate asked, and how far off beyond it', () => {
    expect(rateNote(1000, { median: 1000, min: 951, max: 1049 })).to.equal(null);
    expect(rateNote(1000, { median: 394, min: 394, max: 394 })).to.equal('achieved 394 msg/s of 1000 asked (−61 %)');
    expect(rateNote(1000, { median: 1060, min: 1060, max: 1060 })).to.equal('achieved 1060 msg/s of 1000 asked (+6 %)');
    // one run off is enough, and the range says which way
    expect(rateNote(1000, { median: 999, min: 434, max: 1000 })).to.equal('achieved 999 (434–1000) msg/s of 1000 asked (−57 % to 0 %)');
    expect(rateNote(200, null)).to.match(/^200 msg\/s asked, rate sent not recorded \(.*\)$/);
  });

  it('summarises asked and sent rates per kind, and notes the rows that are off', () => {
    const runs = [run('namespace', 1, 1000.4), run('kvm', 1, 612), run('namespace', 2, 999.8), run('kvm', 2, 998)];
    const summary = latencySummary(runs);
    expect(summary.map((s) => [s.kind, s.rate, s.achievedRate?.min, s.achievedRate?.max])).to.deep.equal([
      ['namespace', 1000, 999.8, 1000.4], ['kvm', 1000, 612, 998]]);
    expect(summary[1].achievedRate?.median).to.equal(805);
    expect(rateNotes(summary)).to.deep.equal(['kvm, idle: achieved 805 (612–998) msg/s of 1000 asked (−39 % to 0 %)']);
    const md = markdown(report('latency', runs));
    expect(md).to.match(/\| namespace \| idle \| 2 \| 8 \| 1000 \(1000–1000\) of 1000 \| /);
    expect(md).to.match(/\| kvm \| idle \| 2 \| 8 \| 805 \(612–998\) of 1000 ⚠ \| /);
    expect(md).to.include('\n> ⚠ kvm, idle: achieved 805 (612–998) msg/s of 1000 asked (−39 % to 0 %)\n');
    expect(md.match(/⚠/g)).to.have.length(2);
  });

  it('shows the note in summary.md and report.html, also for results written before the rate sent was recorded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnkvm-rate-'));
    try {
      const write = (name: string, r: BenchReport) => writeFileSync(join(dir, `${name}.json`), JSON.stringify(r));
      write('latency', report('latency', [run('namespace', 1, 385.2), run('kvm', 1, 1001), run('namespace', 2, 385.9), run('kvm', 2, 1000)]));
      // an older file: runs without achievedRate, and summaries without rates (writeReport summarises again)
      const old = report('isolation', [run('namespace', 1, undefined, true), run('kvm', 1, undefined, true)]);
      write('isolation', { ...old, results: old.results.map(({ rate: _r, achievedRate: _a, ...rest }) => rest) });
      writeReport(dir);
      const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
      expect(summary).to.include('\n> ⚠ namespace, idle: achieved 386 (385–386) msg/s of 1000 asked (−61 %)\n');
      expect(summary).not.to.include('kvm, idle:');
      expect(summary).to.match(/\| kvm \| idle \| 2 \| 8 \| 1001 \(1000–1001\) of 1000 \|/);
      expect(summary).to.match(/\n> ⚠ namespace, CPU hogs \+ bulk TCP: 1000 msg\/s asked, rate sent not recorded \(.*\)\n/);
      expect(summary).to.match(/\| kvm \| CPU hogs \+ bulk TCP \| 1 \| 4 \| - of 1000 ⚠ \|/);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).to.match(/<\/table><p class="warning rate">⚠ namespace, idle: achieved 386 \(385–386\) msg\/s of 1000 asked \(−61 %\)<\/p>/);
      expect(html).to.include('<td>386 (385–386) of 1000 ⚠</td>');
      expect(html.match(/class="warning rate"/g)).to.have.length(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
