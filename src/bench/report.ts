// `mnkvm report DIR`: the results `mnkvm bench ... --out DIR` wrote, drawn as
// one HTML page (SVG plots, tables) plus a Markdown summary.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MnkvmError } from '../engine/errors.js';
import { tuneLines, type TuneCheck } from '../engine/tune/check.js';
import type { Fingerprint } from './fingerprint.js';
import {
  kindLabel, markdown, percentileName, SCENARIOS, summarise, type BenchReport, type LatencyRun, type LatencySummary, type Scenario, type StartupResult, type ThroughputSummary,
} from './results.js';
import { ascending, binnedCdfPoints, cdfPoints, PERCENTILES, TIMER_PERCENTILES } from './stats.js';
import { barChart, esc, lineChart, type Bars, type Series } from './svg.js';

const TITLES: Record<Scenario, string> = {
  startup: 'Start-up: single,N', latency: 'Latency: UDP request/response, h1 to h2',
  throughput: 'Throughput: iperf3 between h1 and h2', isolation: 'Isolation: latency while other hosts load CPU and network',
};

/** The blocks of Markdown as markdown() writes them (tables, warnings, paragraphs), as HTML. */
function htmlBlocks(md: string): string {
  return md.split(/\n{2,}/).map((block) => block.trim()).filter((block) => block !== '').map((block) =>
    block.startsWith('|') ? htmlTable(block)
      // next to the table, as in the Markdown: where the latency probe did not send at the rate asked
      : block.startsWith('> ⚠ ') ? `<p class="warning rate">${esc(block.slice(2))}</p>` : `<p>${esc(block)}</p>`).join('');
}

/** A Markdown table (as markdown() writes them) as HTML. */
function htmlTable(md: string): string {
  const rows = md.split('\n').filter((l) => l.startsWith('|') && !/^\|[-| ]+\|$/.test(l))
    .map((l) => l.slice(1, -1).split('|').map((c) => esc(c.trim())));
  const [head, ...body] = rows;
  return `<table><thead><tr>${head.map((c) => `<th>${c}</th>`).join('')}</tr></thead>` +
    `<tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** CDFs of the round trip times of each kind, all runs pooled. */
function cdfs(runs: LatencyRun[], suffix = ''): Series[] {
  const labels = [...new Set(runs.map(kindLabel))];
  return labels.map((label) => ({
    label: `${label}${suffix}`,
    points: cdfPoints(ascending(runs.filter((r) => kindLabel(r) === label).flatMap((r) => r.rttUs))),
  }));
}

/** CDFs of the timer's wake-up latency (cyclictest) of each kind that has it, all runs' histograms pooled. */
function timerCdfs(runs: LatencyRun[], suffix = ''): Series[] {
  const labels = [...new Set(runs.filter((r) => r.timer).map(kindLabel))];
  return labels.map((label) => {
    const timers = runs.flatMap((r) => (r.timer && kindLabel(r) === label ? [r.timer] : []));
    const bins = new Map<number, number>();
    for (const [us, count] of timers.flatMap((t) => t.histogramUs)) bins.set(us, (bins.get(us) ?? 0) + count);
    return {
      label: `${label}${suffix}`,
      points: binnedCdfPoints([...bins].sort(([a], [b]) => a - b), timers.reduce((n, t) => n + t.overflows, 0), Math.max(...timers.map((t) => t.maxUs))),
    };
  });
}

/** Bars of percentiles ps of each summary, as figures(summary) holds them (null: none, no bar). */
function percentileBars(summaries: { label: string; s: LatencySummary }[], ps: readonly number[] = PERCENTILES,
  figures: (s: LatencySummary) => LatencySummary['timerUs'] = (s) => s.percentilesUs): Bars[] {
  return ps.map((p) => ({
    group: percentileName(p),
    values: summaries.flatMap(({ label, s }) => {
      const v = figures(s)?.[percentileName(p)];
      return v ? [{ label, value: v.median, low: v.min, high: v.max }] : [];
    }),
  }));
}

function startupPlots(report: BenchReport<StartupResult, StartupResult>): string[] {
  const labels = [...new Set(report.results.map(kindLabel))];
  const series = (f: (r: StartupResult) => number) => labels.map((label) => ({
    label, points: report.results.filter((r) => kindLabel(r) === label).map((r): [number, number] => [r.hosts, f(r)]),
  }));
  return [
    lineChart('startup-ready', 'Time to pingall-ready vs hosts', series((r) => r.readySeconds), { x: 'hosts (N)', y: 'seconds' }),
    lineChart('startup-memory', 'New memory per host vs hosts', series((r) => r.newMemoryPerHostKiB / 1024), { x: 'hosts (N)', y: 'MiB per host' }),
  ];
}

function latencyPlots(report: BenchReport<LatencyRun, LatencySummary>, id: string, idle?: BenchReport<LatencyRun, LatencySummary>): string[] {
  const loaded = idle !== undefined;
  const series = loaded ? [...cdfs(idle.runs, ' idle'), ...cdfs(report.runs, ' loaded')] : cdfs(report.runs);
  const bars = loaded
    ? [...idle.results.map((s) => ({ label: `${kindLabel(s)} idle`, s })), ...report.results.map((s) => ({ label: `${kindLabel(s)} loaded`, s }))]
    : report.results.map((s) => ({ label: kindLabel(s), s }));
  const plots = [
    lineChart(`${id}-cdf`, 'Round trip time, CDF (all runs)', series, { x: 'round trip time (µs, log scale)', y: 'fraction of samples', logX: true }),
    barChart(`${id}-percentiles`, 'Percentiles (bar: median of runs; whisker: range)', percentileBars(bars), 'µs (log scale)', true),
  ];
  // the timer's wake-up latency in h1 (cyclictest), where the runs measured it (not in results from before it was)
  const timers = loaded ? [...timerCdfs(idle.runs, ' idle'), ...timerCdfs(report.runs, ' loaded')] : timerCdfs(report.runs);
  if (timers.length === 0) return plots;
  return [...plots,
    lineChart(`${id}-timer-cdf`, 'Timer latency in h1 (cyclictest), CDF (all runs)', timers, { x: 'wake-up latency (µs, log scale)', y: 'fraction of wake-ups', logX: true }),
    barChart(`${id}-timer-percentiles`, 'Timer latency percentiles (bar: median of runs; whisker: range)',
      percentileBars(bars, TIMER_PERCENTILES, (s) => s.timerUs), 'µs (log scale)', true),
  ];
}

function throughputPlots(report: BenchReport<unknown, ThroughputSummary>): string[] {
  const flows = Object.keys(report.results[0]?.mbps ?? {});
  const groups = flows.map((flow) => ({
    group: flow, values: report.results.map((s) => ({ label: kindLabel(s), value: s.mbps[flow].median, low: s.mbps[flow].min, high: s.mbps[flow].max })),
  }));
  return [barChart('throughput-mbps', 'Throughput (bar: median of runs; whisker: range)', groups, 'Mbit/s')];
}

function environmentTable(env: Fingerprint): string {
  // (the tune checklist: a line per item; results from before it have none)
  const cell = (k: string, v: unknown) => (k === 'tune' ? tuneLines(v as TuneCheck).map(esc).join('<br>') : esc(String(v)));
  const rows = Object.entries(env).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${cell(k, v)}</td></tr>`);
  return `<table class="env">${rows.join('')}</table>`;
}

/** Write DIR/report.html and DIR/summary.md from DIR's SCENARIO.json files; returns their paths. */
export function writeReport(dir: string): string[] {
  const reports = new Map<Scenario, BenchReport>();
  for (const scenario of SCENARIOS) {
    const file = join(dir, `${scenario}.json`);
    if (!existsSync(file)) continue;
    // Each summary is computed again from the raw runs, so that results an earlier mnkvm wrote are drawn
    // as this one draws them (e.g. runs from before the rate sent was recorded are said to lack it).
    const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    reports.set(scenario, { ...report, results: summarise(scenario, report.runs) });
  }
  if (reports.size === 0) {
    throw new MnkvmError(`${dir} has no benchmark results (${SCENARIOS.map((s) => `${s}.json`).join(', ')}): run \`mnkvm bench all --out ${dir}\` first`);
  }
  const first = [...reports.values()][0];
  const tcg = [...reports.values()].some((r) => r.environment.accel === 'tcg');
  const sections: string[] = [];
  const summary: string[] = [`# mnkvm evaluation: namespace hosts vs KVM hosts\n`];
  for (const [scenario, report] of reports) {
    const md = markdown(report);
    const plots = scenario === 'startup' ? startupPlots(report as BenchReport<StartupResult, StartupResult>)
      : scenario === 'throughput' ? throughputPlots(report as BenchReport<unknown, ThroughputSummary>)
        : latencyPlots(report as BenchReport<LatencyRun, LatencySummary>, scenario,
          scenario === 'isolation' ? reports.get('latency') as BenchReport<LatencyRun, LatencySummary> | undefined : undefined);
    // (the title, the note under it, then the tables and what is said under them)
    const [, note, ...rest] = md.split(/\n{2,}/);
    sections.push(`<section id="${scenario}"><h2>${esc(TITLES[scenario])}</h2><p>${esc(note)}</p>` +
      `<div class="plots">${plots.join('\n')}</div>${htmlBlocks(rest.join('\n\n'))}` +
      `<p class="meta">${esc(report.environment.date)}: <code>${esc(report.environment.command)}</code></p></section>`);
    summary.push(md.replace(/^# mnkvm bench (\w+)/, (_, s: string) => `## ${TITLES[s as Scenario] ?? s}`));
  }
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mnkvm evaluation</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1340px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }
table.env th, table.env td { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 8px; }
.meta { color: #666; font-size: 12px; }
</style></head>
<body>
<h1>mnkvm evaluation: namespace hosts vs KVM hosts</h1>
${tcg ? '<p class="warning">These KVM hosts ran under TCG emulation (no usable /dev/kvm): their timings show an emulated CPU, not what KVM gives.</p>' : ''}
${sections.join('\n')}
<section id="environment"><h2>Environment</h2>${environmentTable(first.environment)}</section>
<script>
// For readers and for mnkvm's test: how many plots the browser laid out with data in them.
document.body.dataset.plotsRendered = [...document.querySelectorAll('svg.plot')]
  .filter((svg) => svg.getBoundingClientRect().width > 0 && svg.querySelector('.series, .bar')).length;
</script>
</body></html>
`;
  const htmlPath = join(dir, 'report.html'), mdPath = join(dir, 'summary.md');
  writeFileSync(htmlPath, html);
  writeFileSync(mdPath, summary.join('\n'));
  return [htmlPath, mdPath];
}
