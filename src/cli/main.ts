#!/usr/bin/env node
// mnkvm: Mininet with KVM virtual machines as hosts.
//   mnkvm [mn options]        a network, exactly as mn builds it (see mnkvm --help)
//   mnkvm -c                  remove what earlier runs left
//   mnkvm image build|import|list|rm   guest images
//   mnkvm run SCRIPT.py       a Mininet script, with KVMHost available
//   mnkvm bench all ...       benchmarks: namespace hosts vs KVM hosts
//   mnkvm report DIR          draw benchmark results (HTML, SVG plots)
//   mnkvm tune check          the real-time checklist of this machine or servers
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { MnkvmError } from '../engine/errors.js';
import { kvmHostSyntax, sriovLinkSyntax } from '../engine/options.js';
import { RunRecord } from '../engine/records.js';
import { benchCommand } from '../bench/command.js';
import { testbedCommand } from '../testbed/command.js';
import { writeReport } from '../bench/report.js';
import { clean } from './clean.js';
import { imageCommand, imageMap } from './images.js';
import { tuneCommand } from './tune.js';
import { requireRoot, runInPython } from '../bridge/session.js';
import { checkCluster, checkKvmHost, optionValue, takeOption } from './checks.js';
import { clusterOptions, PLACERS } from '../cluster/servers.js';
import { keepRun } from '../cluster/keeper.js';
import { SriovFabric } from '../sriov/fabric.js';
import { testbedServer } from '../testbed/testbed.js';

const HELP = () => `mnkvm: Mininet with KVM virtual machines as hosts

Usage: mnkvm [mn options]       build and run a network like mn; --host kvm makes hosts VMs
       mnkvm -c                 remove VMs, namespaces and bridges that earlier runs left (and a virtual testbed)
       mnkvm run SCRIPT.py [--host kvm] [-- ARGS]  run a Mininet script, its default hosts as VMs
       mnkvm migrate SCRIPT.py  what a Containernet script's Docker hosts become (KVM hosts), option by option
       mnkvm image build        build the default guest image (Debian kernel + busybox initramfs)
       mnkvm image import SRC   a container image (docker-archive:FILE.tar, oci:DIR) as a guest image: image=NAME
       mnkvm image build --debian --packages LIST --name NAME   an image of Debian packages: image=NAME
       mnkvm image list|rm      the guest images in the cache
       mnkvm bench all          namespace vs KVM hosts: startup, latency, throughput, isolation (mnkvm bench --help)
       mnkvm bench bridge       benchmark what the TypeScript API adds to a call
       mnkvm report DIR         draw the results in DIR as an HTML report with plots
       mnkvm testbed up         a virtual SR-IOV testbed: servers as VMs (mnkvm testbed --help)
       mnkvm tune check [--servers LIST] [--json]   the real-time checklist of this machine (or each server): ok / warn / missing

A network over several servers: --servers tb1,tb2 (virtual testbed servers) or user@host[:port],...
  --placement ${PLACERS.join('|')} (Mininet's cluster placers; default switchbin); a node's server= places it

KVM host options: ${kvmHostSyntax()}
SR-IOV link options: ${sriovLinkSyntax()}

mn's options:
`;

interface RunOptions { host?: string; switch?: string; controller?: string; servers?: string; placement?: string; image: string[]; imageMap?: string }

function subcommands(): Command {
  const program = new Command('mnkvm').exitOverride();
  program.addCommand(imageCommand());
  program.addCommand(benchCommand((servers, placement) => clusterOptions(servers, placement, testbedServer)));
  program.addCommand(testbedCommand());
  program.addCommand(tuneCommand(testbedServer));
  program.command('report').description('draw benchmark results (mnkvm bench ... --out DIR) as DIR/report.html and DIR/summary.md')
    .argument('<dir>', 'the folder mnkvm bench wrote')
    .action((dir: string) => {
      if (!existsSync(dir)) throw new MnkvmError(`${dir} not found: give the folder of \`mnkvm bench all --out DIR\``);
      for (const path of writeReport(dir)) process.stdout.write(`${path}\n`);
    });
  program.command('run').description('run a Mininet Python script with KVM hosts available')
    .argument('<script>', 'the script (Python, as for python3)')
    .argument('[args...]', 'its arguments (after --)')
    .option('--host <spec>', "default host class where the script names none (mn's syntax: kvm,mem=256)")
    .option('--switch <spec>', 'default switch class where the script names none (e.g. lxbr)')
    .option('--controller <spec>', 'default controller where the script names none (e.g. none)')
    .option('--servers <list>', 'spread the network over these servers: tb1,tb2 (virtual testbed) or user@host[:port],...')
    .option('--placement <placer>', `how nodes without server= are placed: ${PLACERS.join(', ')} (default switchbin)`)
    .option('--image <dimage=source>', "a Containernet script's Docker image: docker-archive:FILE.tar, oci:DIR (imported on first use) or an mnkvm image's name (repeatable)",
      (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--image-map <file>', 'DIMAGE=SOURCE lines, as --image takes them')
    .action(async (script: string, args: string[], opts: RunOptions) => {
      requireRoot();
      if (!existsSync(script)) throw new MnkvmError(`script ${script} not found`);
      checkKvmHost(opts.host);
      const { servers, placement, image, imageMap: mapFile, ...classes } = opts;
      const images = imageMap(image, mapFile);
      const cluster = clusterOptions(servers, placement, testbedServer);
      process.exitCode = await runInPython('mnkvm.script', [resolve(script), args, JSON.stringify(classes), JSON.stringify(images)], cluster);
    });
  program.command('migrate').description("what a Containernet script's Docker hosts become under mnkvm run, option by option (nothing is started)")
    .argument('<script>', 'the script')
    .action(async (script: string) => {
      if (!existsSync(script)) throw new MnkvmError(`script ${script} not found`);
      process.exitCode = await runInPython('mnkvm.migrate', [resolve(script)]);
    });
  return program;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'server-record') {
    // (the run's keeper here, started over SSH by a run that spreads over servers: src/cluster/keeper.ts)
    requireRoot();
    await keepRun(process.stdin, process.stdout, (record, notice) => new SriovFabric(record, notice));
    return 0;
  }
  if (['image', 'bench', 'run', 'migrate', 'report', 'testbed', 'tune'].includes(argv[0])) {
    await subcommands().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  }
  if (argv.includes('-c') || argv.includes('--clean')) {
    requireRoot();
    return clean((l) => process.stdout.write(l + '\n'));
  }
  const wantsHelp = argv.some((a) => a === '-h' || a === '--help' || a === '--version');
  if (wantsHelp) {
    if (argv.includes('-h') || argv.includes('--help')) process.stdout.write(HELP());
    return runInPython('mnkvm.mn', [argv]);
  }
  requireRoot();
  checkCluster(argv);
  checkKvmHost(optionValue(argv, '--host'));
  const [servers, withoutServers] = takeOption(argv, '--servers');
  const [placement, mnArgv] = takeOption(withoutServers, '--placement');
  return runInPython('mnkvm.mn', [mnArgv], clusterOptions(servers, placement, testbedServer));
}

// Last line of defence: whatever crashes this process, what its runs created is removed.
process.on('uncaughtException', (e: Error) => {
  process.stderr.write(`mnkvm: internal error: ${e.stack ?? e.message}\n`);
  Promise.all(RunRecord.mine().map((r) => r.sweep())).finally(() => process.exit(1));
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof MnkvmError) {
      process.stderr.write(`mnkvm: ${e.message}\n`);
    } else if (e && typeof e === 'object' && 'code' in e && String(e.code).startsWith('commander.')) {
      // commander has printed its message already
    } else {
      process.stderr.write(`mnkvm: ${e instanceof Error ? e.stack : String(e)}\n`);
    }
    process.exit(1);
  },
);
