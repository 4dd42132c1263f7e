// Scale cases over the virtual testbed's two servers (npm run test:scale):
// networks with more nested KVM hosts per server, and the placers and
// links npm test checks once (test/servers.ts) checked again in more shapes,
// the start-up benchmark's KVM hosts on the servers;
// and the verify play's own reboot (-e verify_reboot=true).
// The testbed is brought up and prepared by ansible/ once, then taken down.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playbook } from '../ansible.js';
import { expectClean, mnkvm } from '../helpers.js';
import { benchOverServers, killDuringBuild, NESTED, placement, SERVERS } from '../servers.js';
import { bound } from '../speed.js';

describe('networks over two virtual testbed servers, at scale', function () {
  afterEach(expectClean);

  it('linear,4 of KVM hosts (2 nested per server), tree,depth=2 iperf, each placer, SR-IOV links, SIGKILL of tree,depth=2', async function () {
    this.timeout(bound(90 * 60_000));
    let r = await mnkvm(['testbed', 'up', '--servers', '2'], { timeoutMs: 20 * 60_000 });
    expect(r.code, r.err).to.equal(0);
    const dir = mkdtempSync(join(tmpdir(), 'mnkvm-scale-'));
    try {
      r = await mnkvm(['testbed', 'inventory']);
      writeFileSync(join(dir, 'testbed.ini'), r.out);
      const prepared = playbook(join(dir, 'testbed.ini'), 'site.yml');
      for (const host of ['tb1', 'tb2']) expect(prepared[host], host).to.include({ failed: 0, unreachable: 0 });
      // the verify play's own reboot (npm test sees the kernel role's reboot, before its verify play)
      const verified = playbook(join(dir, 'testbed.ini'), 'verify.yml', '-e', 'verify_reboot=true');
      for (const host of ['tb1', 'tb2']) expect(verified[host], host).to.include({ failed: 0, unreachable: 0 });
      expect(verified.output).to.match(/TASK \[verify : Reboot first\][^\n]*\n(?:[^\n]*\n)?changed: \[tb[12]\]/);

      r = await mnkvm([...SERVERS, '--topo', 'linear,4', '--host', 'kvm,backend=libvirt', '--test', 'pingall'], { ...NESTED(), timeoutMs: 30 * 60_000 });
      expect(r.code, r.out + r.err).to.equal(0);
      expect(placement(r.err)).to.deep.equal({ h1: 'tb1', h2: 'tb1', h3: 'tb2', h4: 'tb2', s1: 'tb1', s2: 'tb1', s3: 'tb2', s4: 'tb2' });
      expect(r.err).to.contain('*** Results: 0% dropped (12/12 received)');

      r = await mnkvm([...SERVERS, '--topo', 'tree,depth=2', '--test', 'iperf']);
      expect(r.code, r.out + r.err).to.equal(0);
      expect(placement(r.err)).to.include({ h1: 'tb1', h4: 'tb2' });
      expect(r.err).to.match(/\*\*\* Results: \['[\d.]+ \wbits\/sec', '[\d.]+ \wbits\/sec'\]/);

      for (const placer of ['roundrobin', 'random']) {
        r = await mnkvm([...SERVERS, '--placement', placer, '--topo', 'linear,2', '--test', 'pingall']);
        expect(r.code, r.out + r.err).to.equal(0);
        expect(Object.values(placement(r.err)), placer).to.have.length(4);
        expect(r.err).to.contain('0% dropped (2/2 received)');
      }
      r = await mnkvm([...SERVERS, '--topo', 'linear,2', '--link', 'sriov', '--test', 'pingall']);
      expect(r.code, r.out + r.err).to.equal(0);
      expect(r.err).to.contain('*** Results: 0% dropped (2/2 received)');

      // the start-up benchmark's KVM hosts on the servers (npm test runs its namespace hosts there)
      await benchOverServers([], [['namespace', 'servers tb1,tb2, roundrobin', 0], ['kvm', 'servers tb1,tb2, roundrobin', 0]]);

      await killDuringBuild((line) => console.log(`      (${line})`), 'tree,depth=2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await mnkvm(['testbed', 'down']);
    }
  });
});
