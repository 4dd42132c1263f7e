// What each benchmark scenario measures (the runs, as mininet-ext/mnkvm/bench.py
// returns them), its summary over repetitions, and its Markdown table.
import type { KvmHostOptions } from '../engine/options.js';
import type { Fingerprint } from './fingerprint.js';
import { ascending, binnedPercentile, median, percentile, PERCENTILES, spread, TIMER_PERCENTILES, type Spread } from './stats.js';

/**
 * namespace hosts; KVM hosts with virtio links (veth); KVM hosts with SR-IOV links. Each kind's host and link classes,
 * as mn names them (mnkvm's mn.py registers namespace, kvm and sriov): the benchmark's spec carries them to bench.py.
 */
export const KINDS = {
  namespace: { host: 'namespace', link: 'default' },
  kvm: { host: 'kvm', link: 'default' },
  'kvm-sriov': { host: 'kvm', link: 'sriov' },
} as const;
export type Kind = keyof typeof KINDS;
export const KINDS_OF_LINKS = { veth: ['namespace', 'kvm'], sriov: ['kvm-sriov'] } as const satisfies Record<string, readonly Kind[]>;

/** The KVM host options a kind's measured host gets (mnkvm bench --kinds kvm:tune=latency:cpus=2): those given, checked. */
export type HostOptions = Partial<KvmHostOptions>;

/** Host options as a label shows them, in the order given: "tune=latency cpus=2 cores=1" (a list as the command line gives it: 1+2). */
export const optionsText = (options: HostOptions): string => Object.entries(options)
  .map(([name, value]) => `${name}=${Array.isArray(value) ? value.join('+') : value === null ? 'none' : String(value)}`).join(' ');

/**
 * Where a kind's links ran, where that is not the kind alone: "SR-IOV emulated", "SR-IOV hardware: PF enp1s0 (igb)";
 * image: the KVM hosts' guest image (mnkvm bench --images; a label names it where it is not the default);
 * options: the kind's host options (--kinds kvm:tune=latency), which only the host named by optionsOn (h1) got.
 */
export interface Where { where?: string; image?: string; options?: HostOptions; optionsOn?: string }

/** The fields of Where a run or a summary has: what a summary of runs carries on. */
const whereOf = (r: Where): Where => ({ where: r.where, image: r.image, options: r.options, optionsOn: r.optionsOn });

/** A row's kind, with its host options, its KVM hosts' image and where its links ran: what its runs are grouped by. */
export const kindLabel = (r: { kind: Kind } & Where): string =>
  `${r.kind}${r.options && Object.keys(r.options).length ? ` ${optionsText(r.options)}` : ''}` +
  `${r.image && r.image !== 'default' ? ` image=${r.image}` : ''}${r.where ? ` (${r.where})` : ''}`;
export const SCENARIOS = ['startup', 'latency', 'throughput', 'isolation'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface StartupResult extends Where {
  kind: Kind; hosts: number; repetition: number; readySeconds: number; perHostSeconds: number;
  firstCmdSeconds: number; stopSeconds: number; newMemoryKiB: number; newMemoryPerHostKiB: number;
  rssPerHostKiB: number; cpuSecondsPerHost: number; pingDroppedPercent: number;
}

/**
 * A timer's wake-up latency inside h1, as cyclictest (Debian's rt-tests) measures it after the round trips, under
 * the same load: one SCHED_FIFO thread that sleeps until the next interval and records how late it woke.
 */
export interface TimerRun {
  intervalUs: number;     // the thread's period
  priority: number;       // its SCHED_FIFO priority
  cpu: number | null;     // the vCPU it ran on (a tuned host's isolated one), or null: where the scheduler put it
  seconds: number;
  histogramUs: [number, number][];   // [latency (µs), wake-ups], ascending, counts above 0
  boundUs: number;        // the histogram's last bin
  overflows: number;      // wake-ups later than boundUs (counted, not binned)
  minUs: number; avgUs: number; maxUs: number;
}

export interface LatencyRun extends Where {
  kind: Kind; repetition: number; duration: number; loaded: boolean;
  rate: number;           // messages/s asked of sockperf
  achievedRate: number;   // messages/s it sent while it timed the round trips kept
  rttUs: number[];   // every round trip sockperf timed after its warm-up, in order
  ping: { minMs: number; avgMs: number; maxMs: number } | null;
  probeCpu?: number;      // the vCPU of h1 the probes ran on (its first isolated one, tune=latency); absent: not pinned
  timer?: TimerRun;       // absent in results from before mnkvm measured it
}

export interface Flow { mbps: number; lostPercent?: number; jitterMs?: number; retransmits?: number; attempts: number }
export interface ThroughputRun extends Where { kind: Kind; repetition: number; duration: number; flows: Record<string, Flow> }

export interface LatencySummary extends Where {
  kind: Kind; loaded: boolean; runs: number; samples: number;
  rate: number;                   // messages/s asked
  achievedRate: Spread | null;    // messages/s sent: median and range over the runs (null: runs from before it was recorded)
  percentilesUs: Record<string, Spread>;   // 'p50' ... 'p99.99', 'max': median and range over the runs
  pingAvgMs: Spread | null;
  timerUs: Record<string, Spread> | null;  // cyclictest's 'p50', 'p99', 'p99.9', 'max' over the runs (null: not measured)
  timerSamples: number;                    // its wake-ups, all runs
}
export interface ThroughputSummary extends Where { kind: Kind; runs: number; mbps: Record<string, Spread>; udpLostPercent: Record<string, Spread> }

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
  return groupBy(runs, (r) => `${r.hosts} ${kindLabel(r)}`).map((group) => {
    const m: StartupResult = { ...group[0], repetition: 0 };
    for (const key of MEASURES) m[key] = median(group.map((r) => r[key]));
    return m;
  });
}

/** A timer run's wake-ups: those binned and those past the histogram's bound. */
export const timerSamples = (t: TimerRun): number => t.histogramUs.reduce((n, [, count]) => n + count, t.overflows);

/** A timer run's p-th percentile of wake-up latency (µs; p=100: its maximum). */
export const timerPercentile = (t: TimerRun, p: number): number => binnedPercentile(t.histogramUs, t.overflows, t.maxUs, p);

/** Per kind: each percentile of each run, then its median and range over the runs. */
export function latencySummary(runs: LatencyRun[]): LatencySummary[] {
  return groupBy(runs, kindLabel).map((group) => {
    const sorted = group.map((r) => ascending(r.rttUs));
    const percentilesUs = Object.fromEntries(PERCENTILES.map((p) =>
      [percentileName(p), spread(sorted.map((s) => percentile(s, p)))]));
    const pings = group.flatMap((r) => (r.ping ? [r.ping.avgMs] : []));
    // (results written before the rate sent, or the timer, was recorded lack it)
    const achieved = group.flatMap((r) => (typeof r.achievedRate === 'number' ? [r.achievedRate] : []));
    const timers = group.flatMap((r) => (r.timer ? [r.timer] : []));
    const timerUs = timers.length === group.length ? Object.fromEntries(TIMER_PERCENTILES.map((p) =>
      [percentileName(p), spread(timers.map((t) => timerPercentile(t, p)))])) : null;
    return { kind: group[0].kind, ...whereOf(group[0]), loaded: group[0].loaded, runs: group.length,
      samples: group.reduce((n, r) => n + r.rttUs.length, 0), rate: group[0].rate,
      achievedRate: achieved.length === group.length ? spread(achieved) : null, percentilesUs, pingAvgMs: pings.length ? spread(pings) : null,
      timerUs, timerSamples: timers.reduce((n, t) => n + timerSamples(t), 0) };
  });
}

/** A scenario's summary of its runs: what SCENARIO.json's results hold. */
export function summarise(scenario: Scenario, runs: unknown[]): unknown[] {
  return scenario === 'startup' ? startupMedians(runs as StartupResult[])
    : scenario === 'throughput' ? throughputSummary(runs as ThroughputRun[]) : latencySummary(runs as LatencyRun[]);
}

export function throughputSummary(runs: ThroughputRun[]): ThroughputSummary[] {
  return groupBy(runs, kindLabel).map((group) => {
    const flows = Object.keys(group[0].flows);
    const over = (f: (flow: Flow) => number | undefined, names: string[]) => Object.fromEntries(names.map((name) =>
      [name, spread(group.map((r) => f(r.flows[name]) ?? 0))]));
    return { kind: group[0].kind, ...whereOf(group[0]), runs: group.length, mbps: over((f) => f.mbps, flows),
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
  results.map((r) => [kindLabel(r), String(r.hosts), r.readySeconds.toFixed(2), r.perHostSeconds.toFixed(3), r.firstCmdSeconds.toFixed(3),
    r.stopSeconds.toFixed(2), (r.newMemoryPerHostKiB / 1024).toFixed(1), (r.rssPerHostKiB / 1024).toFixed(1),
    r.cpuSecondsPerHost.toFixed(2), `${r.pingDroppedPercent}%`]));
}

/** Where a run sent more than this fraction off the rate asked, the report says so next to its figures. */
export const RATE_TOLERANCE = 0.05;

/** "−61 %", "+7 %": how far value is off asked. */
function offBy(value: number, asked: number): string {
  const percent = Math.round((value / asked - 1) * 100);
  return percent === 0 ? '0 %' : `${percent < 0 ? '−' : '+'}${Math.abs(percent)} %`;
}

/**
 * The sentence a latency summary gets where its probe did not send at the rate asked (some run more than
 * RATE_TOLERANCE off, or a rate not recorded): the method assumes a constant rate, and the sample counts,
 * hence what the tail percentiles rest on, depend on it. null where every run sent at the rate asked.
 */
export function rateNote(asked: number, achieved: Spread | null): string | null {
  if (!achieved) return `${asked} msg/s asked, rate sent not recorded (runs from before mnkvm recorded it)`;
  const ends = [achieved.min, achieved.max];
  if (ends.every((v) => Math.abs(v / asked - 1) <= RATE_TOLERANCE)) return null;
  return `achieved ${showSpread(achieved, 0)} msg/s of ${asked} asked (${[...new Set(ends.map((v) => offBy(v, asked)))].join(' to ')})`;
}

const loadName = (r: LatencySummary) => (r.loaded ? 'CPU hogs + bulk TCP' : 'idle');

/** One line per latency summary whose rate is off (rateNote), naming its row. */
export function rateNotes(results: LatencySummary[]): string[] {
  return results.flatMap((r) => {
    const note = rateNote(r.rate, r.achievedRate);
    return note ? [`${kindLabel(r)}, ${loadName(r)}: ${note}`] : [];
  });
}

export function latencyTable(results: LatencySummary[]): string {
  return table(['kind', 'load', 'runs', 'samples', 'sent of asked (msg/s)', ...PERCENTILES.map((p) => `${percentileName(p)} (µs)`), 'ping avg (ms)'],
    results.map((r) => [kindLabel(r), loadName(r), String(r.runs), String(r.samples),
      `${r.achievedRate ? showSpread(r.achievedRate, 0) : '-'} of ${r.rate}${rateNote(r.rate, r.achievedRate) ? ' ⚠' : ''}`,
      ...PERCENTILES.map((p) => showSpread(r.percentilesUs[percentileName(p)], 1)), r.pingAvgMs ? showSpread(r.pingAvgMs, 3) : '-']));
}

/** The timer latency (cyclictest) of the summaries that have it. */
export function timerTable(results: LatencySummary[]): string {
  return table(['kind', 'load', 'runs', 'wake-ups', ...TIMER_PERCENTILES.map((p) => `${percentileName(p)} (µs)`)],
    results.flatMap((r) => (r.timerUs ? [[kindLabel(r), loadName(r), String(r.runs), String(r.timerSamples),
      ...TIMER_PERCENTILES.map((p) => showSpread(r.timerUs![percentileName(p)], 0))]] : [])));
}

/** What the timer table measures, above it. */
export const TIMER_NOTE = 'Timer latency in h1 (cyclictest: one SCHED_FIFO thread that wakes at a fixed interval and records how late it woke), ' +
  'for as long as the probe ran, after it, under the same load; in a tuned host on its isolated vCPU, as the probes:';

/** The line under the tables where a kind has host options: which host got them. */
export function optionsNote(results: (Where & { kind: Kind })[]): string | null {
  const labels = [...new Set(results.filter((r) => r.options && Object.keys(r.options).length).map((r) => `${kindLabel(r)} on ${r.optionsOn}`))];
  return labels.length ? `Host options went to one host of each network, the one measured from; its other hosts are plain: ${labels.join('; ')}.` : null;
}

export function throughputTable(results: ThroughputSummary[]): string {
  const flows = Object.keys(results[0]?.mbps ?? {});
  return table(['kind', 'runs', ...flows.map((f) => `${f} (Mbit/s)`), ...flows.filter((f) => f.startsWith('udp')).map((f) => `${f} lost (%)`)],
    results.map((r) => [kindLabel(r), String(r.runs), ...flows.map((f) => showSpread(r.mbps[f], 1)),
      ...Object.values(r.udpLostPercent).map((s) => showSpread(s, 1))]));
}

/** The Markdown of one scenario's report. */
export function markdown(report: BenchReport): string {
  const tables: Record<string, (results: never[]) => string> = {
    startup: startupTable, latency: latencyTable, isolation: latencyTable, throughput: throughputTable,
  };
  const { accel } = report.environment;
  const latency = report.benchmark === 'latency' || report.benchmark === 'isolation';
  const latencies = report.results as LatencySummary[];
  const notes = latency ? rateNotes(latencies).map((n) => `\n> ⚠ ${n}\n`).join('') : '';
  const timer = latency && latencies.some((r) => r.timerUs) ? `\n${TIMER_NOTE}\n\n${timerTable(latencies)}\n` : '';
  const on = optionsNote(report.results as (Where & { kind: Kind })[]);
  return `# mnkvm bench ${report.benchmark}\n\nAccelerator: ${accel}${accel === 'tcg' ? ' (TCG emulation: timings are emulated)' : ''}; ` +
    `${report.repeat > 1 ? `medians of ${report.repeat} runs (range in brackets)` : '1 run'}; ` +
    `options: ${JSON.stringify(report.options)}\n\n${tables[report.benchmark](report.results as never[])}\n${notes}${timer}${on ? `\n${on}\n` : ''}`;
}

