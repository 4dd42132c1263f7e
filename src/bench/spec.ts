// What `mnkvm bench` asks of its Python half (mininet-ext/mnkvm/bench.py,
// whose readSpec() reads it into its BenchSpec and refuses any other shape):
// the one definition of the spec, built from the command line's options.
import { MnkvmError } from '../engine/errors.js';
import { loadImage } from '../engine/image.js';
import { kvmHostOptions } from '../engine/options.js';
import { KINDS, KINDS_OF_LINKS, kindLabel, type HostOptions, type Kind, type Scenario } from './results.js';

/**
 * A kind measured, with its host and link classes as mn names them (KINDS); options: the KVM host options its
 * measured host (h1) gets, {} for none; label: how its results are labelled (kindLabel), for the progress lines.
 */
export interface KindSpec { name: Kind; host: string; link: string; options: HostOptions; label: string }

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

/** The options of `mnkvm bench SCENARIO` that make the spec, as the command line gives them (kinds, links: where given). */
export interface SpecOptions {
  hosts: string; images: string; repeat: string; bootTimeout: string; rate: string; duration: string; iperfDuration: string;
  kinds?: string; links?: string;
}

export function whole(value: string, option: string, least = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < least) throw new MnkvmError(`${option} ${value}: give a whole number of at least ${least}`);
  return n;
}

const kindSpec = (name: Kind, options: HostOptions = {}): KindSpec => ({ name, ...KINDS[name], options, label: kindLabel({ kind: name, options }) });

/** --links veth,sriov: the kinds measured (veth: namespace and KVM hosts; sriov: KVM hosts with SR-IOV links). */
function linkKinds(value: string): KindSpec[] {
  const links = value.split(',');
  const unknown = links.filter((l) => !Object.hasOwn(KINDS_OF_LINKS, l));
  if (unknown.length || !links.length) throw new MnkvmError(`--links ${value}: give veth, sriov or veth,sriov`);
  return links.flatMap((l) => KINDS_OF_LINKS[l as keyof typeof KINDS_OF_LINKS].map((name) => kindSpec(name)));
}

/**
 * One kind of --kinds: a name of KINDS, a KVM kind's optionally with host options, kvm:tune=latency:cpus=2,
 * checked by their one definition (the last of a name counts, as in --host kvm,...); image= is --images' work.
 */
function parseKind(item: string): KindSpec {
  const [name, ...pairs] = item.split(':');
  if (!Object.hasOwn(KINDS, name)) {
    const names = Object.keys(KINDS);
    throw new MnkvmError(`--kinds ${item}: no kind ${name || "''"}: give ${names.slice(0, -1).join(', ')} or ${names.at(-1)}; a KVM kind may take host options, as kvm:tune=latency:cpus=2`);
  }
  const kind = name as Kind;
  if (pairs.length && KINDS[kind].host !== 'kvm') {
    throw new MnkvmError(`--kinds ${item}: namespace hosts take no host options (KVM kinds do, as kvm:tune=latency:cpus=2)`);
  }
  const given: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new MnkvmError(`--kinds ${item}: '${pair}' is no option: give NAME=VALUE, as kvm:tune=latency:cpus=2`);
    given[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if ('image' in given) throw new MnkvmError(`--kinds ${item}: give guest images with --images (each KVM kind is measured once per image)`);
  let all;
  try {
    all = kvmHostOptions(given);
  } catch (e) {
    if (e instanceof MnkvmError) throw new MnkvmError(`--kinds ${item}: ${e.message}`);
    throw e;
  }
  return kindSpec(kind, Object.fromEntries(Object.keys(given).map((option) => [option, all[option as keyof typeof all]])));
}

/** The kinds measured: --kinds, else --links' (veth where neither is given); both given is one line. */
function kinds(opts: SpecOptions): KindSpec[] {
  if (opts.kinds !== undefined && opts.links !== undefined) {
    throw new MnkvmError(`--kinds ${opts.kinds} and --links ${opts.links}: give one of them (--links veth is --kinds namespace,kvm; --links sriov is --kinds kvm-sriov)`);
  }
  if (opts.kinds === undefined) return linkKinds(opts.links ?? 'veth');
  const list = opts.kinds.split(',').map(parseKind);
  const twice = list.map((k) => k.label).filter((label, i, labels) => labels.indexOf(label) !== i);
  if (twice.length) throw new MnkvmError(`--kinds ${opts.kinds}: ${twice[0]} is named twice: name each kind once`);
  return list;
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
    scenarios, kinds: kinds(opts), images: images(opts.images), sizes: sizes(opts.hosts),
    repeat: whole(opts.repeat, '--repeat'), rate: whole(opts.rate, '--rate'), duration: whole(opts.duration, '--duration', 2),
    iperfDuration: whole(opts.iperfDuration, '--iperf-duration'), bootTimeout: whole(opts.bootTimeout, '--boot-timeout'),
  };
}
