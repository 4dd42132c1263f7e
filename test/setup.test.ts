// Set-up pieces that must be idempotent and safe, and the resource record itself.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/engine/paths.js';
import { processId, startTime } from '../src/engine/proc.js';
import { RunRecord } from '../src/engine/records.js';
import { mnkvm } from './helpers.js';

describe('set-up and records', function () {
  it('does not rebuild an up-to-date guest image', () => {
    const r = spawnSync('bash', [join(PROJECT_ROOT, 'guest', 'build-image.sh')], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^guest image up to date: /);
  });

  it('runs the example script with KVM and namespace hosts', async () => {
    const r = await mnkvm(['run', join(PROJECT_ROOT, 'examples', 'kvm_pair.py')]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/vm1 \(KVMHost\): kernel \d+\.\d+\.\d+-\d+-cloud-amd64/);
    expect(r.out + r.err).to.match(/vm1->vm2: 1\/1, rtt min\/avg\/max\/mdev/);
  });

  it('sweeps recorded processes by pid and start time, never a recycled pid', async () => {
    const record = RunRecord.create();
    const victim = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const innocent = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    record.add({ kind: 'shell', name: 'victim', proc: processId(victim.pid!) });
    // The same pid with another start time stands for a pid the kernel gave to someone else.
    record.add({ kind: 'shell', name: 'recycled', proc: { pid: innocent.pid!, start: startTime(innocent.pid!)! + 1 } });
    record.claim('link', 'mnkvmtest0');
    record.add({ kind: 'intf', name: 'mnkvmtest0' });
    spawnSync('ip', ['link', 'add', 'mnkvmtest0', 'type', 'veth', 'peer', 'name', 'mnkvmtest1']);
    // A name recorded but not claimed (its claim failed: someone else made it) is not this run's to remove.
    spawnSync('ip', ['link', 'add', 'mnkvmtest2', 'type', 'veth', 'peer', 'name', 'mnkvmtest3']);
    record.add({ kind: 'intf', name: 'mnkvmtest2' });
    try {
      const report = await record.sweep();
      expect(report).to.include({ shells: 1, intfs: 1 });
      expect(startTime(victim.pid!)).to.equal(null);
      expect(startTime(innocent.pid!)).to.be.a('number');
      expect(spawnSync('ip', ['link', 'show', 'mnkvmtest0']).status).to.not.equal(0);
      expect(spawnSync('ip', ['link', 'show', 'mnkvmtest2']).status).to.equal(0);
    } finally {
      innocent.kill('SIGKILL');
      spawnSync('ip', ['link', 'del', 'mnkvmtest2']);
    }
  });
});
