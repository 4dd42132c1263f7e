// `mnkvm bench startup`: start-up time and memory, namespace hosts vs KVM hosts, in one run.
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '../cli/checks.js';
import { callPython } from '../cli/session.js';
import { MnkvmError } from '../engine/errors.js';
import { benchBridge, bridgeTable } from './bridge.js';
import { defaultAccel, fingerprint } from './fingerprint.js';

export interface StartupResult {
  kind: 'namespace' | 'kvm'; hosts: number; repetition: number; readySeconds: number; perHostSeconds: number;
  firstCmdSeconds: number; stopSeconds: number; newMemoryKiB: number; newMemoryPerHostKiB: number;
  rssPerHostKiB: number; pingDroppedPercent: number;
}

const MEASURES = ['readySeconds', 'perHostSeconds', 'firstCmdSeconds', 'stopSeconds', 'newMemoryKiB',
  'newMemoryPerHostKiB', 'rssPerHostKiB', 'pingDroppedPercent'] as const;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Per (kind, hosts): the median of each measure over the repetitions. */
export function medians(runs: StartupResult[]): StartupResult[] {
  const groups = new Map<string, StartupResult[]>();
  for (const r of runs) groups.set(`${r.hosts} ${r.kind}`, [...(groups.get(`${r.hosts} ${r.kind}`) ?? []), r]);
  return [...groups.values()].map((group) => {
    const m: StartupResult = { ...group[0], repetition: 0 };
    for (const key of MEASURES) m[key] = median(group.map((r) => r[key]));
    return m;
  });
}

function sizes(value: string): number[] {
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new MnkvmError(`--hosts ${value}: give host counts like 2,10`);
  return list;
}

export function table(results: StartupResult[]): string {
  const head = '| kind | hosts | ready (s) | per host (s) | one more host: cmd answered (s) | stop (s) | new memory / host (MiB) | RSS / host (MiB) | pingall dropped |';
  const rows = results.map((r) => `| ${r.kind} | ${r.hosts} | ${r.readySeconds.toFixed(2)} | ${r.perHostSeconds.toFixed(3)} | ` +
    `${r.firstCmdSeconds.toFixed(3)} | ${r.stopSeconds.toFixed(2)} | ${(r.newMemoryPerHostKiB / 1024).toFixed(1)} | ${(r.rssPerHostKiB / 1024).toFixed(1)} | ${r.pingDroppedPercent}% |`);
  return [head, head.replace(/[^|]+/g, (c) => '-'.repeat(c.length)), ...rows].join('\n');
}

export function benchCommand(): Command {
  const bench = new Command('bench').description('benchmarks: figures as JSON plus a Markdown table');
  bench.command('startup')
    .description('time to pingall-ready and memory per host, namespace hosts vs KVM hosts (topology single,N)')
    .option('--hosts <list>', 'host counts, comma separated', '1,10,25,50')
    .option('--repeat <n>', 'repetitions; the table shows medians', '3')
    .option('--json', 'print the results as JSON')
    .option('--out <dir>', 'also write startup.json and startup.md there')
    .action(async (opts: { hosts: string; repeat: string; json?: boolean; out?: string }) => {
      requireRoot();
      const repeat = Number(opts.repeat);
      if (!Number.isInteger(repeat) || repeat < 1) throw new MnkvmError(`--repeat ${opts.repeat}: give a positive whole number`);
      const spec = { kinds: ['namespace', 'kvm'], sizes: sizes(opts.hosts), repeat };
      const result = await callPython<string>('mnkvm.bench', [JSON.stringify(spec)]);
      if (typeof result !== 'string') throw new MnkvmError(`the benchmark's Python process died (exit ${result.pythonExited})`);
      const runs = JSON.parse(result) as StartupResult[];
      const report = { benchmark: 'startup', environment: fingerprint(defaultAccel()), repeat, results: medians(runs), runs };
      const md = `# mnkvm bench startup\n\nAccelerator: ${report.environment.accel}` +
        `${report.environment.accel === 'tcg' ? ' (TCG emulation: timings are emulated)' : ''}; ` +
        `medians of ${repeat} run${repeat === 1 ? '' : 's'}\n\n${table(report.results)}\n`;
      emit(opts, 'startup', report, md);
    });
  bench.command('bridge')
    .description("per-call cost of host.cmd('true') through the TypeScript API vs inside Python")
    .option('--calls <n>', 'calls per host', '500')
    .option('--json', 'print the results as JSON')
    .option('--out <dir>', 'also write bridge.json and bridge.md there')
    .action(async (opts: { calls: string; json?: boolean; out?: string }) => {
      requireRoot();
      const calls = Number(opts.calls);
      if (!Number.isInteger(calls) || calls < 1) throw new MnkvmError(`--calls ${opts.calls}: give a positive whole number`);
      const report = { benchmark: 'bridge', environment: fingerprint(defaultAccel()), results: await benchBridge(calls) };
      const md = `# mnkvm bench bridge\n\nAccelerator: ${report.environment.accel}\n\n${bridgeTable(report.results)}\n`;
      emit(opts, 'bridge', report, md);
    });
  return bench;
}

/** Print a report (JSON or Markdown) and, with --out, write NAME.json and NAME.md there. */
function emit(opts: { json?: boolean; out?: string }, name: string, report: object, md: string): void {
  const json = JSON.stringify(report, null, 2) + '\n';
  if (opts.out) {
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(join(opts.out, `${name}.json`), json);
    writeFileSync(join(opts.out, `${name}.md`), md);
  }
  process.stdout.write(opts.json ? json : md);
}
