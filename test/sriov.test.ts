// SR-IOV links on this machine, which has no SR-IOV NIC: emulated mode
// (a bridge per VLAN, virtio NICs in the guests), with the pool's records
// and clean-up. The hardware path (igb VFs passed through with VFIO into
// nested KVM guests) runs inside a virtual testbed server: test/testbed.test.ts.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { expectClean, Mnkvm, mnkvm, SCRIPTS, TEST_ENV } from './helpers.js';
import { join } from 'node:path';

const EMULATED = /^SR-IOV links are emulated: this machine has no SR-IOV NIC \(a bridge per VLAN stands for the NIC's switch, virtio NICs for VFs\): their timings are not SR-IOV's$/m;
const NO_OF = ['--switch', 'lxbr', '--controller', 'none'];

/** The emulated VLAN bridges on this machine now. */
function vlanBridges(): string[] {
  return spawnSync('ip', ['-br', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout
    .split('\n').map((l) => l.split(' ')[0]!).filter((n) => /^mkvlan\d+$/.test(n)).sort();
}

describe('SR-IOV links, emulated (this machine has no SR-IOV NIC)', function () {
  afterEach(expectClean);

  it('mnkvm --topo single,3 --host kvm --link sriov: pingall, said once to be emulated', async () => {
    const r = await mnkvm(['--topo', 'single,3', '--host', 'kvm', '--link', 'sriov', ...NO_OF, '--test', 'pingall']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out + r.err).to.contain('*** Results: 0% dropped (6/6 received)');
    expect((r.out + r.err).match(new RegExp(EMULATED.source, 'gm'))).to.have.length(1);
    expect(r.err).not.to.match(/mnkvm: removed/);   // the run gave back its own
  });

  it('linear,2: SR-IOV links between switches are veth links; namespace hosts too', async () => {
    let r = await mnkvm(['--topo', 'linear,2', '--host', 'kvm', '--link', 'sriov', ...NO_OF, '--test', 'pingall']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out + r.err).to.contain('*** Results: 0% dropped (2/2 received)');
    expect(r.out + r.err).to.contain("SR-IOV links between switches are veth links (each switch meets its hosts' VFs on a VLAN of its own)");
    r = await mnkvm(['--topo', 'linear,3', '--link', 'sriov', ...NO_OF, '--test', 'pingall']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out + r.err).to.contain('*** Results: 0% dropped (6/6 received)');
  });

  it('in a script: SRIOVLink mixed with a veth link, added and deleted at run time', async () => {
    const r = await mnkvm(['run', join(SCRIPTS, 'sriov_runtime.py')]);
    expect(r.code, r.err).to.equal(0);
    // both of s1's SR-IOV links on its VLAN; h3's veth link as Mininet has it
    expect(r.out).to.match(/^LINKS \(OK OK\) \(SR-IOV emulated, VLAN (\d+)\) \(OK OK\) \(SR-IOV emulated, VLAN \1\) \(OK OK\)$/m);
    expect(r.out).to.contain('DROPPED 0.0');
    expect(r.out).to.match(/^ADDED \(SR-IOV emulated, VLAN 300\) 2 packets transmitted, 2 received/m);
    expect(r.out).to.contain('DELETED 0');
  });

  it('keeps two links on different VLANs apart (traffic, not configuration)', async () => {
    const r = await mnkvm(['run', join(SCRIPTS, 'sriov_vlans.py')]);
    expect(r.code, r.err).to.equal(0);
    const [, a, b] = /^VLANS (\d+) (\d+)$/m.exec(r.out) ?? [];
    expect(a).to.not.equal(b);
    expect(r.out).to.contain('PING h1 h2 2\nPING h3 h4 2\nPING h1 h3 0\nPING h1 h4 0\nPING h4 h2 0\n');
  });

  it('gives two runs at once VLANs of their own, and after SIGKILL `mnkvm -c` leaves nothing', async () => {
    const first = new Mnkvm(['--topo', 'single,2', '--host', 'kvm', '--link', 'sriov', ...NO_OF]);
    await first.waitFor(/mininet> $/, { stdoutOnly: true });
    expect(vlanBridges()).to.deep.equal(['mkvlan100']);
    // a second run (without a switch: s1 is the first's) takes the next VLANs, and its links work
    const second = await mnkvm(['run', join(SCRIPTS, 'sriov_vlans.py')]);
    expect(second.code, second.err).to.equal(0);
    expect(second.out).to.contain('VLANS 101 102\nPING h1 h2 2\nPING h3 h4 2\n');
    expect(vlanBridges()).to.deep.equal(['mkvlan100']);   // the second run's are gone, the first's stays
    first.signal('SIGKILL');
    await first.done;
    const r = await mnkvm(['-c'], { env: TEST_ENV });
    expect(r.code, r.err).to.equal(0);
    expect(vlanBridges()).to.deep.equal([]);
  });

  it('says in one line what is wrong, and leaves nothing', async () => {
    const cases: [string, RegExp][] = [
      ['sriov,mode=hardware', /^mnkvm: SR-IOV link, mode=hardware: no SR-IOV PF with VFs found on this machine: name one with pf=NAME, or use mode=emulated$/],
      ['sriov,pf=enp9s0', /^mnkvm: SR-IOV link: no network interface enp9s0 on this machine: name a PF/],
      ['sriov,pf=lo', /^mnkvm: SR-IOV link: lo is not an SR-IOV physical function \(no sriov_totalvfs\)/],
      ['sriov,vlan=5000', /^mnkvm: SR-IOV link option vlan=5000: must be a whole number from 1 to 4094$/],
      ['sriov,trust=maybe', /^mnkvm: SR-IOV link option trust=maybe: must be on or off$/],
    ];
    for (const [link, line] of cases) {
      const r = await mnkvm(['--topo', 'single,2', '--host', 'kvm', '--link', link, ...NO_OF, '--test', 'pingall']);
      expect(r.code, `${link}: ${r.err}`).to.equal(1);
      const lines = r.err.split('\n').filter((l) => l.startsWith('mnkvm: '));
      expect(lines, link).to.have.length(1);
      expect(lines[0], link).to.match(line);
      await expectClean();
    }
  });
});
