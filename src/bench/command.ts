// `mnkvm bench`: namespace hosts vs KVM hosts, side by side, in one run.
// Each scenario's report is JSON (every run's raw figures, their summary, the
// environment) plus a Markdown table; `mnkvm report` draws them.
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callPython, requireRoot, type ClusterOptions } from '../bridge/session.js';
import { MnkvmError } from '../engine/errors.js';
import { benchBridge, bridgeTable } from './bridge.js';
import { defaultAccel, fingerprint } from './fingerprint.js';
import { markdown, SCENARIOS, summarise, type BenchReport, type Scenario } from './results.js';
import { benchSpec, whole, type SpecOptions } from './spec.js';

interface BenchOptions extends SpecOptions { json?: boolean; out?: string; servers?: string; placement?: string }

/** --servers and --placement, resolved (the CLI's one reading of them), or undefined without --servers. */
export type ClusterResolver = (servers: string | undefined, placement: string | undefined) => ClusterOptions | undefined;

/** Run scenarios (in one Python process, its networks over cluster's servers where given) and return one report per scenario. */
async function runScenarios(scenarios: readonly Scenario[], opts: BenchOptions, cluster?: ClusterOptions): Promise<Map<Scenario, BenchReport>> {
  const spec = benchSpec(scenarios, opts);
  const environment = fingerprint(defaultAccel());
  const result = await callPython<string>('mnkvm.bench', [JSON.stringify(spec)], cluster);
  if (typeof result !== 'string') throw new MnkvmError(`the benchmark's Python process died (exit ${result.pythonExited})`);
  const runs = JSON.parse(result) as Record<Scenario, unknown[]>;
  const reports = new Map<Scenario, BenchReport>();
  for (const scenario of scenarios) {
    const servers = cluster ? { servers: cluster.servers.map((s) => s.name), placement: cluster.placement } : {};
    const options = { ...servers, kinds: spec.kinds.map((k) => k.label), images: spec.images, ...(scenario === 'startup' ? { hosts: spec.sizes }
      : scenario === 'throughput' ? { duration: spec.iperfDuration } : { rate: spec.rate, duration: spec.duration }) };
    reports.set(scenario, { benchmark: scenario, environment, options, repeat: spec.repeat,
      results: summarise(scenario, runs[scenario]), runs: runs[scenario] });
  }
  return reports;
}

function scenarioCommand(name: Scenario | 'all', description: string, cluster: ClusterResolver): Command {
  return new Command(name).description(description)
    .option('--hosts <list>', 'startup: host counts, comma separated', '1,10,25,50')
    .option('--images <list>', 'KVM hosts: their guest images, comma separated (mnkvm image list): each measured as a kind of its own', 'default')
    .option('--repeat <n>', 'repetitions (the tables show medians and ranges)', '3')
    .option('--rate <n>', 'latency probe: request/response messages per second', '1000')
    .option('--duration <s>', 'latency probe: seconds per run (sockperf discards its warm-up), and as long again for the timer probe (cyclictest)', '30')
    .option('--iperf-duration <s>', 'throughput: seconds per iperf3 flow', '10')
    .option('--links <list>', 'veth: namespace hosts and KVM hosts with virtio links; sriov: KVM hosts with SR-IOV links (--link sriov: VFs, or emulated where there is no SR-IOV NIC, as each result says); default veth')
    .option('--kinds <list>', 'instead of --links, the kinds side by side: namespace, kvm, kvm-sriov, a KVM kind with host options for the host measured from (h1), as kvm:tune=latency:cpus=2 (docs/evaluation.md)')
    .option('--boot-timeout <s>', 'KVM hosts: seconds to wait for each guest to boot (raise it where guests boot slowly, as on a nested testbed\'s servers)', '120')
    .option('--servers <list>', 'run the networks over these servers (tb1,tb2 or user@host[:port],...; KVM hosts under their libvirtd): the figures are theirs')
    .option('--placement <placer>', 'how the hosts are placed on the servers (roundrobin spreads single,N over all of them)')
    .option('--json', 'print the results as JSON')
    .option('--out <dir>', 'also write SCENARIO.json and SCENARIO.md there')
    .action(async (opts: BenchOptions) => {
      requireRoot();
      const reports = await runScenarios(name === 'all' ? SCENARIOS : [name], opts, cluster(opts.servers, opts.placement));
      for (const report of reports.values()) emit(opts, report.benchmark, report, markdown(report));
      if (name === 'all') process.stdout.write(`\nResults in ${opts.out}: draw them with \`mnkvm report ${opts.out}\`\n`);
    });
}

/** cluster: reads --servers and --placement as the CLI does everywhere. */
export function benchCommand(cluster: ClusterResolver): Command {
  const bench = new Command('bench').description('benchmarks, namespace hosts vs KVM hosts: figures as JSON plus Markdown tables');
  bench.addCommand(scenarioCommand('startup', 'time to pingall-ready, memory per host and stop time (topology single,N)', cluster));
  bench.addCommand(scenarioCommand('latency', 'UDP request/response round trips h1 -> h2 (sockperf ping-pong): percentiles and every sample; then a timer\'s wake-up latency in h1 (cyclictest)', cluster));
  bench.addCommand(scenarioCommand('throughput', 'iperf3 TCP and UDP between h1 and h2, both ways', cluster));
  bench.addCommand(scenarioCommand('isolation', 'the latency and timer probes while other hosts spin their CPUs and send a bulk TCP flow', cluster));
  const all = scenarioCommand('all', 'every scenario above, into --out (default bench-results)', cluster);
  all.setOptionValueWithSource('out', 'bench-results', 'default');
  bench.addCommand(all);
  bench.command('bridge')
    .description("per-call cost of host.cmd('true') through the TypeScript API vs inside Python")
    .option('--calls <n>', 'calls per host', '500')
    .option('--json', 'print the results as JSON')
    .option('--out <dir>', 'also write bridge.json and bridge.md there')
    .action(async (opts: { calls: string; json?: boolean; out?: string }) => {
      requireRoot();
      const calls = whole(opts.calls, '--calls');
      const report = { benchmark: 'bridge', environment: fingerprint(defaultAccel()), results: await benchBridge(calls) };
      const md = `# mnkvm bench bridge\n\nAccelerator: ${report.environment.accel}\n\n${bridgeTable(report.results)}\n`;
      emit(opts, 'bridge', report, md);
    });
  return bench;
}

/** Print a report (JSON or Markdown) and, with --out, write NAME.json and NAME.md there. */
function emit(opts: { json?: boolean; out?: string }, name: string, report: object, md: string): void {
  // (arrays of numbers, e.g. every latency sample, on one line each)
  const json = JSON.stringify(report, null, 2).replace(/\[\s+([-\d.e+,\s]+?)\s+\]/g, (_, body: string) => `[${body.replace(/\s+/g, '')}]`) + '\n';
  if (opts.out) {
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(join(opts.out, `${name}.json`), json);
    writeFileSync(join(opts.out, `${name}.md`), md);
  }
  process.stdout.write(opts.json ? json : md);
}
