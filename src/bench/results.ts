// What each benchmark scenario measures (the runs, as mininet-ext/mnkvm/bench.py
// returns them), its summary over repetitions, and its Markdown table.
import type { Fingerprint } from './fingerprint.js';
import { ascending, median, percentile, PERCENTILES, spread, type Spread } from './stats.js';

export type Kind = 'namespace' | 'kvm';
export const SCENARIOS = ['startup', 'latency', 'throughput', 'isolation'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface StartupResult {
  kind: Kind; hosts: number; repetition: number; readySeconds: number; perHostSeconds: number;
  firstCmdSeconds: number; stopSeconds: number; newMemoryKiB: number; newMemoryPerHostKiB: number;
  rssPerHostKiB: number; cpuSecondsPerHost: number; pingDroppedPercent: number;
}

export interface LatencyRun {
  kind: Kind; repetition: number; rate: number; duration: number; loaded: boolean;
  rttUs: number[];   // every round trip sockperf timed after its warm-up, in order
  ping: { minMs: number; avgMs: number; maxMs: number } | null;
}

export interface Flow { mbps: number; lostPercent?: number; jitterMs?: number; retransmits?: number; attempts: number }
export interface ThroughputRun { kind: Kind; repetition: number; duration: number; flows: Record<string, Flow> }

export interface LatencySummary {
  kind: Kind; loaded: boolean; runs: number; samples: number;
  percentilesUs: Record<string, Spread>;   // 'p50' ... 'p99.99', 'max': median and range over the runs
  pingAvgMs: Spread | null;
}
export interface ThroughputSummary { kind: Kind; runs: number; mbps: Record<string, Spread>; udpLostPercent: Record<string, Spread> }

/** One scenario's report: what `mnkvm bench` writes as SCENARIO.json. */
export interface BenchReport<R = unknown, S = unknown> {
  benchmark: string; environment: Fingerprint; options: Record<string, unknown>; repeat: number; results: S[]; runs: R[];
}

const MEASURES = ['readySeconds', 'perHostSeconds', 'firstCmdSeconds', 'stopSeconds', 'newMemoryKiB',
  'newMemoryPerHostKiB', 'rssPerHostKiB', 'cpuSecondsPerHost', 'pingDroppedPercent'] as const;

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}

export const percentileName = (p: number) => (p === 100 ? 'max' : `p${p}`);

/** Per (kind, hosts): the median of each measure over the repetitions. */
export function startupMedians(runs: StartupResult[]): StartupResult[] {
  return groupBy(runs, (r) => `${r.hosts} ${r.kind}`).map((group) => {
    const m: StartupResult = { ...group[0], repetition: 0 };
    for (const key of MEASURES) m[key] = median(group.map((r) => r[key]));
    return m;
  });
}

/** Per kind: each percentile of each run, then its median and range over the runs. */
export function latencySummary(runs: LatencyRun[]): LatencySummary[] {
  return groupBy(runs, (r) => r.kind).map((group) => {
    const sorted = group.map((r) => ascending(r.rttUs));
    const percentilesUs = Object.fromEntries(PERCENTILES.map((p) =>
      [percentileName(p), spread(sorted.map((s) => percentile(s, p)))]));
    const pings = group.flatMap((r) => (r.ping ? [r.ping.avgMs] : []));
    return { kind: group[0].kind, loaded: group[0].loaded, runs: group.length,
      samples: group.reduce((n, r) => n + r.rttUs.length, 0), percentilesUs, pingAvgMs: pings.length ? spread(pings) : null };
  });
}

export function throughputSummary(runs: ThroughputRun[]): ThroughputSummary[] {
  return groupBy(runs, (r) => r.kind).map((group) => {
    const flows = Object.keys(group[0].flows);
    const over = (f: (flow: Flow) => number | undefined, names: string[]) => Object.fromEntries(names.map((name) =>
      [name, spread(group.map((r) => f(r.flows[name]) ?? 0))]));
    return { kind: group[0].kind, runs: group.length, mbps: over((f) => f.mbps, flows),
      udpLostPercent: over((f) => f.lostPercent, flows.filter((n) => n.startsWith('udp'))) };
  });
}

/** A Markdown table. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((h) => '-'.repeat(h.length))), ...rows.map(line)].join('\n');
}

/** "median (min–max)", or the median alone when there was one run. */
export function showSpread(s: Spread, digits: number): string {
  const f = (v: number) => v.toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

export function startupTable(results: StartupResult[]): string {
  return table(['kind', 'hosts', 'ready (s)', 'per host (s)', 'one more host: cmd answered (s)', 'stop (s)',
    'new memory / host (MiB)', 'RSS / host (MiB)', 'CPU / host at ready (s)', 'ring ping dropped'],
  results.map((r) => [r.kind, String(r.hosts), r.readySeconds.toFixed(2), r.perHostSeconds.toFixed(3), r.firstCmdSeconds.toFixed(3),
    r.stopSeconds.toFixed(2), (r.newMemoryPerHostKiB / 1024).toFixed(1), (r.rssPerHostKiB / 1024).toFixed(1),
    r.cpuSecondsPerHost.toFixed(2), `${r.pingDroppedPercent}%`]));
}

export function latencyTable(results: LatencySummary[]): string {
  return table(['kind', 'load', 'runs', 'samples', ...PERCENTILES.map((p) => `${percentileName(p)} (µs)`), 'ping avg (ms)'],
    results.map((r) => [r.kind, r.loaded ? 'CPU hogs + bulk TCP' : 'idle', String(r.runs), String(r.samples),
      ...PERCENTILES.map((p) => showSpread(r.percentilesUs[percentileName(p)], 1)), r.pingAvgMs ? showSpread(r.pingAvgMs, 3) : '-']));
}

export function throughputTable(results: ThroughputSummary[]): string {
  const flows = Object.keys(results[0]?.mbps ?? {});
  return table(['kind', 'runs', ...flows.map((f) => `${f} (Mbit/s)`), ...flows.filter((f) => f.startsWith('udp')).map((f) => `${f} lost (%)`)],
    results.map((r) => [r.kind, String(r.runs), ...flows.map((f) => showSpread(r.mbps[f], 1)),
      ...Object.values(r.udpLostPercent).map((s) => showSpread(s, 1))]));
}

/** The Markdown of one scenario's report. */
export function markdown(report: BenchReport): string {
  const tables: Record<string, (results: never[]) => string> = {
    startup: startupTable, latency: latencyTable, isolation: latencyTable, throughput: throughputTable,
  };
  const { accel } = report.environment;
  return `# mnkvm bench ${report.benchmark}\n\nAccelerator: ${accel}${accel === 'tcg' ? ' (TCG emulation: timings are emulated)' : ''}; ` +
    `${report.repeat > 1 ? `medians of ${report.repeat} runs (range in brackets)` : '1 run'}; ` +
    `options: ${JSON.stringify(report.options)}\n\n${tables[report.benchmark](report.results as never[])}\n`;
}

