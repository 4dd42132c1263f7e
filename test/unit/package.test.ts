// The package a user installs: `npm pack`'s tarball (its prepack compiles),
// installed with npm into a new folder outside this checkout; a program there
// imports `mnkvm` and `mnkvm/bench`, compiles under strict with `tsc --noEmit`
// against the installed declarations alone (skipLibCheck off), and runs. So do
// docs/typescript.md's example (compiled, not run: it starts a network) and
// the installed `mnkvm` command (--help). The program builds no network.
// A few seconds: npm installs from its cache, without the dependencies'
// install scripts (native builds no part of this reaches: ssh2's optional
// crypto binding, @unraid/libvirt's).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../../src/engine/paths.js';

/** The TypeScript this checkout compiles with (TypeScript 7): no second download. */
const TSC = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc');
/** The @types/node this checkout has: npm has it in its cache. */
const TYPES_NODE = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }).version;

/** A command's stdout; its stderr says why it failed. */
function run(command: string, args: string[], opts: SpawnSyncOptions & { cwd: string }): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  expect(r.status, `${command} ${args.join(' ')}: ${String(r.error ?? '')}${String(r.stdout)}${String(r.stderr)}`).to.equal(0);
  return String(r.stdout);
}

/** docs/typescript.md's program, the TypeScript block under "Installing the package". */
function docsExample(): string {
  const page = readFileSync(join(PROJECT_ROOT, 'docs', 'typescript.md'), 'utf8');
  const block = /^## Installing the package$[\s\S]*?^```ts\n([\s\S]*?)^```$/m.exec(page);
  expect(block, 'docs/typescript.md: a ```ts block under "## Installing the package"').to.not.equal(null);
  return block![1];
}

/** The consumer: every kind of thing the two entries export, used as a program uses it, and what it got printed. */
const CONSUMER = `
import {
  ERROR_KINDS, isMnkvmError, KVM_HOST_OPTIONS, Mininet, MnkvmError, SRIOV_LINK_OPTIONS, Topo, type Link,
  type ErrorKind, type HostOptions, type KvmHostOptions, type ProgressEvent, type SRIOVLinkOptions, type StartOptions,
} from 'mnkvm';
import { KINDS, SCENARIOS, type BenchReport, type LatencyRun, type LatencySummary, type ScenarioReports } from 'mnkvm/bench';

const tune: KvmHostOptions['tune'] = 'latency';
const host: HostOptions = { kind: 'kvm', mem: 512, cpus: 2, tune, cores: [1], image: 'default', boot: 'cold' };
const sriov: SRIOVLinkOptions = { kind: 'sriov', pf: 'enp1s0', vlan: 10, rate: 100, spoofchk: false, trust: true, mode: 'emulated' };
// @ts-expect-error tune is 'none' or 'latency'
const untuned: HostOptions = { tune: 'fast' };
// @ts-expect-error an SR-IOV link's mode is auto, hardware or emulated
const virtual: SRIOVLinkOptions = { kind: 'sriov', mode: 'virtual' };

class Star extends Topo<[n: number]> {
  override build(n: number): void {
    const s1 = this.addSwitch('s1');
    for (let i = 1; i <= n; i++) this.addLink(this.addHost(\`h\${i}\`, host), s1, { kind: 'tc', bw: 10, delay: '1ms' });
  }
}
const topo = new Star(2);
topo.addLink('h1', 'h2', sriov);
const progress: string[] = [];
// (typed, never started: no network here)
const start: StartOptions = {
  topo, servers: ['tb1', 'tb2'], placement: 'roundrobin',
  onProgress: (e: ProgressEvent) => { if (e.kind === 'hostBooted') progress.push(\`\${e.booted} of \${e.hosts}\`); },
};

// (typed, never called: Mininet's objects as a program uses them)
async function measure(net: Mininet): Promise<[kernel: string, dropped: number, link: Link, ip: string | null]> {
  const [h1, h2] = await net.get('h1', 'h2');
  const link = await net.addLink(h1, h2, { kind: 'tc', bw: 5, delay: '2ms' });
  return [await h1.cmd('uname', '-r'), await net.ping([h1, h2]), link, await link.intf1.IP()];
}

// a wrong input: an error of kind usage, its kind to branch on
let kind: ErrorKind | 'none' = 'none';
try {
  topo.addLink('h1', 'h9');
} catch (e) {
  if (isMnkvmError(e, 'usage')) kind = e.kind;
  else throw e;
}

const report = JSON.parse('{ "results": [{ "kind": "kvm", "percentilesUs": { "p50": { "median": 42, "min": 40, "max": 45 } } }] }') as
  Pick<ScenarioReports['latency'], 'results'>;
const p50 = (r: Pick<BenchReport<LatencyRun, LatencySummary>, 'results'>): number[] => r.results.map((s) => s.percentilesUs['p50']?.median ?? NaN);

console.log(JSON.stringify({
  resolved: import.meta.resolve('mnkvm'), nodes: topo.nodes(), links: topo.links(true), kind,
  error: new MnkvmError('x') instanceof Error, errorKinds: ERROR_KINDS, mem: KVM_HOST_OPTIONS.mem.parse(64),
  sriovMode: SRIOV_LINK_OPTIONS.mode.default, mac: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(Mininet.randMac()),
  scenarios: SCENARIOS, kinds: Object.keys(KINDS), p50: p50(report), start: Object.keys(start), progress, measure: typeof measure,
}));
`;

describe('the package a user installs', function () {
  this.timeout(240_000);
  let root = '';
  before(() => { root = realpathSync(mkdtempSync(join(tmpdir(), 'mnkvm-package-'))); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('installs from npm pack into a folder of its own; a program there compiles under strict and runs', () => {
    run('npm', ['pack', '--pack-destination', root], { cwd: PROJECT_ROOT });
    const tarballs = readdirSync(root).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).to.have.length(1);

    const consumer = join(root, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', join(root, tarballs[0]!), `@types/node@${TYPES_NODE}`],
      { cwd: consumer });
    const installed = join(consumer, 'node_modules', 'mnkvm');
    // what mnkvm runs besides its JavaScript: Mininet's Python side, the guest image's scripts; not the tests
    for (const file of ['mininet-ext/mnkvm/api.py', 'guest/build-image.sh', 'guest/cache.sh', 'setup.sh', 'dist/src/api/index.d.ts']) {
      expect(existsSync(join(installed, file)), file).to.equal(true);
    }
    expect(readdirSync(join(installed, 'dist'))).to.deep.equal(['src']);

    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', types: ['node'], outDir: 'out' },
      files: ['consumer.ts', 'example.ts'],
    }));
    writeFileSync(join(consumer, 'consumer.ts'), CONSUMER);
    writeFileSync(join(consumer, 'example.ts'), docsExample());
    run(TSC, ['-p', '.', '--noEmit'], { cwd: consumer });
    run(TSC, ['-p', '.'], { cwd: consumer });

    const printed = JSON.parse(run(process.execPath, [join('out', 'consumer.js')], { cwd: consumer })) as Record<string, unknown>;
    expect(printed.resolved).to.equal(pathToFileURL(join(installed, 'dist', 'src', 'api', 'index.js')).href);
    expect(printed).to.deep.include({
      nodes: ['h1', 'h2', 's1'], links: [['h1', 'h2'], ['h1', 's1'], ['h2', 's1']], kind: 'usage', error: true,
      errorKinds: ['usage', 'clash', 'guest', 'mininet', 'internal'], mem: { must: 'a whole number >= 160' }, sriovMode: 'auto', mac: true,
      scenarios: ['startup', 'latency', 'throughput', 'isolation'], kinds: ['namespace', 'kvm', 'kvm-sriov'], p50: [42],
      start: ['topo', 'servers', 'placement', 'onProgress'], progress: [], measure: 'function',
    });

    // the command npm linked: mnkvm's CLI from the installed package
    expect(run(join(consumer, 'node_modules', '.bin', 'mnkvm'), ['--help'], { cwd: consumer })).to.match(/^Usage: mnkvm/m);
  });
});
