// The KVM host options' one definition (src/engine/options.ts): its rules, and
// the table in docs/kvm-hosts.md kept in step with it. No VMs: milliseconds.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  KVM_HOST_OPTION_NAMES, KVM_HOST_OPTIONS, kvmHostOption, kvmHostOptions, kvmHostSpecOptions, kvmHostSyntax, MININET_HOST_PARAMS, splitSpec,
  SRIOV_LINK_OPTION_NAMES,
} from '../../src/engine/options.js';
import { PROJECT_ROOT } from '../../src/engine/paths.js';

describe('KVM host options (one definition)', function () {
  it('fills defaults and takes values as the command line and scripts give them', () => {
    expect(kvmHostOptions({})).to.deep.equal({
      mem: 256, cpus: 1, accel: 'auto', image: 'default', bootTimeout: 120, boot: 'clone', share: '/tmp', cores: null,
      tune: 'none', backend: 'qemu', uri: 'qemu:///system',
    });
    expect(kvmHostOptions({ mem: '512', cpus: 2, share: 'none', cores: '1' })).to.include({ mem: 512, cpus: 2, share: null });
    expect(kvmHostOption('cores', [0, 1])).to.deep.equal([0, 1]);
  });

  it('says what a bad value must be, in one line', () => {
    expect(() => kvmHostOption('mem', 100)).to.throw('KVM host option mem=100: must be a whole number >= 160');
    expect(() => kvmHostOption('mem', 'lots')).to.throw('KVM host option mem=lots: must be a whole number >= 160');
    expect(() => kvmHostOption('accel', 'xen')).to.throw('KVM host option accel=xen: must be one of auto, kvm, tcg');
    expect(() => kvmHostOption('share', '/no/such/folder')).to.throw(/share=\/no\/such\/folder: must be an existing folder/);
    expect(() => kvmHostOptions({ memory: 256 })).to.throw("unknown KVM host option 'memory': use mem, cpus, accel, image, bootTimeout, boot, share, cores, tune, backend, uri");
    expect(() => kvmHostOption('backend', 'xen')).to.throw('KVM host option backend=xen: must be one of qemu, libvirt');
    expect(() => kvmHostOption('uri', 'xen:///system')).to.throw('KVM host option uri=xen:///system: must be a libvirt URI of QEMU, e.g. qemu:///system');
  });

  it('takes bootTimeout\'s default from MNKVM_BOOT_TIMEOUT where it is set (a slow or nested machine), checked as the option is', () => {
    try {
      process.env.MNKVM_BOOT_TIMEOUT = '600';
      expect(kvmHostOptions({}).bootTimeout).to.equal(600);
      expect(kvmHostOptions({ bootTimeout: 30 }).bootTimeout).to.equal(30);
      process.env.MNKVM_BOOT_TIMEOUT = 'long';
      expect(() => kvmHostOptions({})).to.throw('MNKVM_BOOT_TIMEOUT=long: must be a whole number >= 1 (the default of the KVM host option bootTimeout)');
    } finally {
      delete process.env.MNKVM_BOOT_TIMEOUT;
    }
  });

  it("matches docs/kvm-hosts.md's table (names, order, defaults) and --help", () => {
    const page = readFileSync(join(PROJECT_ROOT, 'docs', 'kvm-hosts.md'), 'utf8');
    const table = page.slice(page.indexOf('| option | default | meaning |')).split('\n\n')[0];
    const rows = table.split('\n').slice(2).map((row) => /^\| `(\w+)` \|([^|]*)\|/.exec(row)!.slice(1, 3).map((c) => c.trim()));
    expect(rows.map(([name]) => name)).to.deep.equal(KVM_HOST_OPTION_NAMES);
    for (const [name, fallback] of rows) {
      expect(fallback, name).to.equal(String(KVM_HOST_OPTIONS[name as keyof typeof KVM_HOST_OPTIONS].default ?? ''));
    }
    expect(kvmHostSyntax()).to.equal('--host kvm[,mem=MiB][,cpus=N][,accel=auto|kvm|tcg][,image=NAME][,bootTimeout=S][,boot=clone|cold][,share=DIR|none][,cores=N][,tune=none|latency][,backend=qemu|libvirt][,uri=URI]');
  });

  it("SR-IOV link options: docs/sriov.md's table names each (in order)", () => {
    const page = readFileSync(join(PROJECT_ROOT, 'docs', 'sriov.md'), 'utf8');
    const table = page.slice(page.indexOf('| option | meaning |')).split('\n\n')[0];
    const names = table.split('\n').slice(2).flatMap((row) => [...row.split(' | ')[0].matchAll(/`(\w+)=/g)].map((m) => m[1]));
    expect(names).to.deep.equal(SRIOV_LINK_OPTION_NAMES);
  });
});

// Mininet as Debian installs it (/usr/bin/python3 sees it): only its code is
// read, no network starts.
const MININET = `
import inspect, json, re, sys
import mininet.util
from mininet.node import Host
init, config = Host.__init__, Host.config
named = [ p.name for f in ( init, config ) for p in inspect.signature( f ).parameters.values()
          if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is not p.empty ]
positional = [ p.name for p in inspect.signature( init ).parameters.values() if p.default is p.empty ]
read = re.findall( r"params\\.get\\( *.(\\w+)", inspect.getsource( init ) )
documented = re.findall( r"^(\\w+):", inspect.getdoc( init ), re.M )
mininet.util.makeNumeric = str   # (values as the command line gave them)
print( json.dumps( { 'hostParams': named + [ n for n in read if n in documented and n not in named + positional ],
                     'split': [ mininet.util.splitArgs( s ) for s in json.loads( sys.argv[ 1 ] ) ] } ) )
`;

describe('--host kvm,key=value (the spec, split as Mininet splits it)', function () {
  const specs = ['kvm', 'kvm,mem=256,cpus=2', 'kvm,share=/tmp/a=b', 'kvm,x,mem=1,mem=2,y', 'kvm,,=5,mem=', 'lxbr'];
  let mininet: { hostParams: string[]; split: [string, string[], Record<string, string>][] };
  before(function () {
    this.timeout(30000);   // (Python imports Mininet: seconds on a loaded machine)
    const r = spawnSync('/usr/bin/python3', ['-c', MININET, JSON.stringify(specs)], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    mininet = JSON.parse(r.stdout);
  });

  it("splits a spec as Mininet's splitArgs does", () => {
    expect(specs.map(splitSpec)).to.deep.equal(mininet.split.map(([name, args, params]) => ({ name, args, params })));
  });

  it("passes Mininet's Host parameters on (the list is Mininet's Host's)", () => {
    expect(MININET_HOST_PARAMS).to.deep.equal(mininet.hostParams);
    expect(kvmHostSpecOptions('kvm,10.0.0.1,ip=10.0.0.9/8,mac=00:00:00:00:00:09,lo=up,mem=512')).to.include({ mem: 512 });
    expect(kvmHostSpecOptions('lxbr,mem=lots')).to.equal(null);
  });

  it('says what is wrong with a KVM host option in the words a script gets', () => {
    expect(() => kvmHostSpecOptions('kvm,memory=256')).to.throw("unknown KVM host option 'memory': use mem, cpus, accel, image, bootTimeout, boot, share, cores, tune, backend, uri");
    expect(() => kvmHostSpecOptions('kvm,mem=lots')).to.throw('KVM host option mem=lots: must be a whole number >= 160');
    expect(() => kvmHostSpecOptions('kvm,image=')).to.throw('KVM host option image=: must be an image name or folder');
  });
});
