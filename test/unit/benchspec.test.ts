// The benchmark's spec, one shape on both sides: what src/bench/spec.ts builds,
// mininet-ext/mnkvm/bench.py's readSpec() reads (Debian's python3, no network),
// and refuses in one line where a field is missing or wrong. Milliseconds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MININET_EXT } from '../../src/engine/paths.js';
import { KINDS, SCENARIOS } from '../../src/bench/results.js';
import { benchSpec, type SpecOptions } from '../../src/bench/spec.js';
import { MnkvmError } from '../../src/engine/errors.js';

// Each spec read by readSpec() in one python3: what it made of it (its fields,
// and each kind's classes by name), or the error that refused it
const READ = `
import dataclasses, json, sys
from mnkvm.bench import readSpec
def read( text ):
    try:
        spec = readSpec( text )
    except Exception as e:
        return dict( error='%s: %s' % ( type( e ).__name__, e ) )
    return dict( spec=dataclasses.asdict( spec ), classes={
        k.name: [ c.__name__ for c in k.classes().values() ]
        for k in spec.kinds } )
print( json.dumps( [ read( text ) for text in json.load( sys.stdin ) ] ) )
`;

interface Read { spec?: object; classes?: Record<string, string[]>; error?: string }

/** readSpec() of each spec, as JSON text, in Debian's python3 (the one that sees Mininet). */
function readSpecs(specs: object[]): Read[] {
  const r = spawnSync('/usr/bin/python3', ['-c', READ], { cwd: MININET_EXT, input: JSON.stringify(specs.map((s) => JSON.stringify(s))), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3: ${r.stderr}`);
  return JSON.parse(r.stdout) as Read[];
}

describe('the benchmark spec (TypeScript builds it, bench.py reads it)', function () {
  this.timeout(20_000);   // (python3 imports Mininet: a second on a busy machine)
  let image: string;
  let options: SpecOptions;
  before(() => {
    // (an image is a folder with a manifest: the builder checks each --images one exists)
    image = mkdtempSync(join(tmpdir(), 'mnkvm-benchspec-'));
    writeFileSync(join(image, 'manifest.json'), JSON.stringify({ kernel: 'k', initramfs: 'i', sshKey: 's', key: 'x' }));
    options = { hosts: '1,10', images: image, repeat: '3', bootTimeout: '120', rate: '1000', duration: '30', iperfDuration: '10', links: 'veth,sriov' };
  });
  after(() => rmSync(image, { recursive: true, force: true }));

  it('is read as built, each kind with the classes KINDS names; refused, in one line, where a field is missing, unknown or wrong', () => {
    const spec = benchSpec(SCENARIOS, options);
    expect(spec.kinds.map((k) => k.name)).to.deep.equal(Object.keys(KINDS));
    // (--kinds: a KVM kind with host options, checked and typed by their definition)
    const tuned = benchSpec(['latency'], { ...options, links: undefined, kinds: 'namespace,kvm,kvm:tune=latency:cpus=2:cores=1' });
    const { bootTimeout: _, ...lacking } = spec;
    const kvm = { name: 'kvm', host: 'kvm', link: 'default', label: 'kvm' };
    const refusals: [object, string][] = [
      [lacking, 'spec.bootTimeout is missing'],
      [{ ...spec, hosts: [1] }, 'spec.hosts is not a field of BenchSpec'],
      [{ ...spec, rate: '1000' }, 'spec.rate is "1000", not int'],
      [{ ...spec, kinds: [{ name: 'kvm', host: 'kvm', options: {}, label: 'kvm' }] }, 'spec.kinds[0].link is missing'],
      [{ ...spec, kinds: [{ ...kvm, options: ['tune=latency'] }] }, 'spec.kinds[0].options is ["tune=latency"], not an object'],
      [{ ...spec, kinds: [{ ...kvm, name: 'namespace', host: 'namespace', options: { cpus: 2 } }] }, 'spec.kinds[0].options: namespace hosts take none'],
    ];
    const [read, readTuned, ...refused] = readSpecs([spec, tuned, ...refusals.map(([bad]) => bad)]);
    expect(read.error).to.equal(undefined);
    expect(read.spec).to.deep.equal(spec);
    expect(read.classes).to.deep.equal({ namespace: ['Host', 'Link'], kvm: ['KVMHost', 'Link'], 'kvm-sriov': ['KVMHost', 'SRIOVLink'] });
    expect(readTuned.error).to.equal(undefined);
    expect(readTuned.spec).to.deep.equal(tuned);
    expect(refused.map((r) => r.error)).to.deep.equal(refusals.map(([, message]) =>
      `ValueError: mnkvm bench: ${message} (src/bench/spec.ts and mnkvm/bench.py disagree)`));
  });

  it('--kinds: kinds side by side, a KVM kind with the host options its measured host gets, each labelled by them', () => {
    const spec = benchSpec(['latency'], { ...options, links: undefined, kinds: 'namespace,kvm,kvm:tune=latency:cpus=2:cores=1,kvm-sriov:mem=512' });
    expect(spec.kinds).to.deep.equal([
      { name: 'namespace', host: 'namespace', link: 'default', options: {}, label: 'namespace' },
      { name: 'kvm', host: 'kvm', link: 'default', options: {}, label: 'kvm' },
      // (values as a script gives them: numbers, cores a list)
      { name: 'kvm', host: 'kvm', link: 'default', options: { tune: 'latency', cpus: 2, cores: [1] }, label: 'kvm tune=latency cpus=2 cores=1' },
      { name: 'kvm-sriov', host: 'kvm', link: 'sriov', options: { mem: 512 }, label: 'kvm-sriov mem=512' },
    ]);
    // --links gives the kinds it gives (veth where neither is given)
    const links = (value: string | undefined) => benchSpec(['latency'], { ...options, links: value }).kinds.map((k) => k.label);
    expect(links(undefined)).to.deep.equal(['namespace', 'kvm']);
    expect(links('sriov')).to.deep.equal(['kvm-sriov']);
  });

  it('--kinds: a bad kind, option or list is one line that says what to give', () => {
    const refusal = (kinds: string, links?: string) => {
      try {
        benchSpec(['latency'], { ...options, kinds, links });
      } catch (e) {
        expect(e).to.be.instanceOf(MnkvmError);
        return (e as MnkvmError).message;
      }
      throw new Error(`--kinds ${kinds}: no refusal`);
    };
    expect(refusal('namespace,vm')).to.equal("--kinds vm: no kind vm: give namespace, kvm or kvm-sriov; a KVM kind may take host options, as kvm:tune=latency:cpus=2");
    expect(refusal('kvm,')).to.equal("--kinds : no kind '': give namespace, kvm or kvm-sriov; a KVM kind may take host options, as kvm:tune=latency:cpus=2");
    expect(refusal('namespace:cpus=2')).to.equal('--kinds namespace:cpus=2: namespace hosts take no host options (KVM kinds do, as kvm:tune=latency:cpus=2)');
    expect(refusal('kvm:tune=fast')).to.equal('--kinds kvm:tune=fast: KVM host option tune=fast: must be one of none, latency');
    expect(refusal('kvm:cpus=two')).to.equal('--kinds kvm:cpus=two: KVM host option cpus=two: must be a whole number >= 1');
    expect(refusal('kvm:tuned=latency')).to.match(/^--kinds kvm:tuned=latency: unknown KVM host option 'tuned': use mem, cpus, .*tune/);
    expect(refusal('kvm:latency')).to.equal("--kinds kvm:latency: 'latency' is no option: give NAME=VALUE, as kvm:tune=latency:cpus=2");
    expect(refusal('kvm:image=deb')).to.equal('--kinds kvm:image=deb: give guest images with --images (each KVM kind is measured once per image)');
    expect(refusal('kvm,kvm:cpus=2,kvm')).to.equal('--kinds kvm,kvm:cpus=2,kvm: kvm is named twice: name each kind once');
    expect(refusal('kvm', 'sriov')).to.equal('--kinds kvm and --links sriov: give one of them (--links veth is --kinds namespace,kvm; --links sriov is --kinds kvm-sriov)');
    for (const message of ['namespace,vm', 'kvm:tune=fast', 'kvm:tuned=latency'].map((k) => refusal(k))) expect(message).not.to.include('\n');
  });
});
