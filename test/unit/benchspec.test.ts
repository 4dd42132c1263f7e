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
    const { bootTimeout: _, ...lacking } = spec;
    const refusals: [object, string][] = [
      [lacking, 'spec.bootTimeout is missing'],
      [{ ...spec, hosts: [1] }, 'spec.hosts is not a field of BenchSpec'],
      [{ ...spec, rate: '1000' }, 'spec.rate is "1000", not int'],
      [{ ...spec, kinds: [{ name: 'kvm', host: 'kvm' }] }, 'spec.kinds[0].link is missing'],
    ];
    const [read, ...refused] = readSpecs([spec, ...refusals.map(([bad]) => bad)]);
    expect(read.error).to.equal(undefined);
    expect(read.spec).to.deep.equal(spec);
    expect(read.classes).to.deep.equal({ namespace: ['Host', 'Link'], kvm: ['KVMHost', 'Link'], 'kvm-sriov': ['KVMHost', 'SRIOVLink'] });
    expect(refused.map((r) => r.error)).to.deep.equal(refusals.map(([, message]) =>
      `ValueError: mnkvm bench: ${message} (src/bench/spec.ts and mnkvm/bench.py disagree)`));
  });
});
