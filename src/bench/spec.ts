// What `mnkvm bench` asks of its Python half (mininet-ext/mnkvm/bench.py,
// whose readSpec() reads it into its BenchSpec and refuses any other shape):
// the one definition of the spec, built from the command line's options.
import { MnkvmError } from '../engine/errors.js';
import { loadImage } from '../engine/image.js';
import { KINDS, KINDS_OF_LINKS, type Kind, type Scenario } from './results.js';

/** A kind measured, with its host and link classes as mn names them (KINDS). */
export interface KindSpec { name: Kind; host: string; link: string }

/** The measurements one Python process runs, sent to bench.py's main as JSON. */
export interface BenchSpec {
  scenarios: readonly Scenario[];
  kinds: KindSpec[];
  images: string[];        // KVM hosts' guest images: each KVM kind is measured once per image
  sizes: number[];         // startup: host counts
  repeat: number;
  rate: number;            // latency probe: messages/s
  duration: number;        // latency probe: seconds per run
  iperfDuration: number;   // throughput: seconds per iperf3 flow
  bootTimeout: number;     // KVM hosts' bootTimeout
}

/** The options of `mnkvm bench SCENARIO` that make the spec, as the command line gives them. */
export interface SpecOptions { hosts: string; images: string; repeat: string; bootTimeout: string; rate: string; duration: string; iperfDuration: string; links: string }

export function whole(value: string, option: string, least = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < least) throw new MnkvmError(`${option} ${value}: give a whole number of at least ${least}`);
  return n;
}

/** --links veth,sriov: the kinds measured (veth: namespace and KVM hosts; sriov: KVM hosts with SR-IOV links). */
function kinds(value: string): Kind[] {
  const links = value.split(',');
  const unknown = links.filter((l) => !Object.hasOwn(KINDS_OF_LINKS, l));
  if (unknown.length || !links.length) throw new MnkvmError(`--links ${value}: give veth, sriov or veth,sriov`);
  return links.flatMap((l) => KINDS_OF_LINKS[l as keyof typeof KINDS_OF_LINKS]);
}

/** --images default,deb: the KVM hosts' guest images, each one that exists. */
function images(value: string): string[] {
  const names = value.split(',');
  if (names.some((n) => n === '')) throw new MnkvmError(`--images ${value}: give image names like default,web (mnkvm image list)`);
  for (const name of names) {
    try {
      loadImage(name);
    } catch {
      throw new MnkvmError(`--images ${value}: no guest image ${name}: \`mnkvm image list\` shows them (\`mnkvm image build\` or \`import\` makes one)`);
    }
  }
  return names;
}

function sizes(value: string): number[] {
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new MnkvmError(`--hosts ${value}: give host counts like 2,10`);
  return list;
}

/** The spec of scenarios with opts; a bad option is a MnkvmError naming it (checked in this order). */
export function benchSpec(scenarios: readonly Scenario[], opts: SpecOptions): BenchSpec {
  return {
    scenarios, kinds: kinds(opts.links).map((name) => ({ name, ...KINDS[name] })), images: images(opts.images), sizes: sizes(opts.hosts),
    repeat: whole(opts.repeat, '--repeat'), rate: whole(opts.rate, '--rate'), duration: whole(opts.duration, '--duration', 2),
    iperfDuration: whole(opts.iperfDuration, '--iperf-duration'), bootTimeout: whole(opts.bootTimeout, '--boot-timeout'),
  };
}
