// The run record's sweep, on things that are no network: a process, files,
// restore steps and claims of made-up VLAN names. No VMs: well under a second.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processId, startTime } from '../../src/engine/proc.js';
import { RunRecord } from '../../src/engine/records.js';
import { describeSweep, type SweepReport } from '../../src/engine/sweep.js';

const NOTHING: SweepReport = { vms: 0, shells: 0, processes: 0, intfs: 0, bridges: 0, cgroups: 0, rules: 0, files: 0, devices: 0 };

describe('the run record', function () {
  let dir: string;
  let record: RunRecord;
  let other: RunRecord;
  const vlan = (id: number): string => `unit-records-${process.pid}:${id}`;
  const log = (): string => (existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '');
  const logs = (line: string): { run: string[] } => ({ run: ['sh', '-c', `echo ${line} >> "$0"`, join(dir, 'log')] });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnkvm-records-'));
    record = RunRecord.createLasting(`unit-records-${process.pid}`)!;
    other = RunRecord.createLasting(`unit-records-other-${process.pid}`)!;
  });
  afterEach(async () => {
    await record.sweep();
    await other.sweep();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sweeps step by step: processes, devices (the last changed first, unless put back already), claims, files', async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    record.add({ kind: 'process', name: 'sleeper', proc: processId(sleeper.pid!) });
    const leftover = join(dir, 'leftover');
    writeFileSync(leftover, '');
    record.add({ kind: 'file', path: leftover });
    record.add({ kind: 'file', path: join(dir, 'gone already') });
    // (devices go back before files are removed: the file is still there)
    record.add({ kind: 'restore', what: 'A', steps: [{ run: ['sh', '-c', `test -e "$0" && echo A >> "$1"`, leftover, join(dir, 'log')] }] });
    record.add({ kind: 'restore', what: 'B', steps: [logs('B')] });
    record.add({ kind: 'restore', what: 'C', steps: [logs('C')] });
    await record.restoreNow('C');
    await record.restoreNow('C');   // (once)
    // A step another living run's claim holds back changes nothing: not counted.
    other.claim('vlan', vlan(7));
    record.add({ kind: 'restore', what: 'D', steps: [{ write: join(dir, 'D'), value: 'D', unlessHeld: { of: 'vlan', prefix: vlan(7) } }] });
    record.claim('vlan', vlan(8));
    record.claim('vlan', vlan(8));   // (twice is fine)
    expect(() => record.claim('vlan', vlan(7))).to.throw(`VLAN ${vlan(7)} is in use by another mnkvm run (pid ${process.pid}: `);

    const report = await record.sweep();
    expect(report).to.deep.equal({ ...NOTHING, processes: 1, devices: 2, files: 1 });
    expect(describeSweep(report)).to.equal('1 process, 1 file, 2 devices put back');
    expect(startTime(sleeper.pid!)).to.equal(null);
    expect(log()).to.equal('C\nB\nA\n');
    expect(existsSync(join(dir, 'D'))).to.equal(false);
    expect(existsSync(leftover)).to.equal(false);
    expect(existsSync(record.dir)).to.equal(false);
    expect(record.holds('vlan', vlan(8))).to.equal(false);
    expect(other.holds('vlan', vlan(7))).to.equal(true);
  });

  it('names what a sweep removed in one line, in a fixed order', () => {
    expect(describeSweep(NOTHING)).to.equal('');
    const ones = Object.fromEntries(Object.keys(NOTHING).map((k) => [k, 1])) as SweepReport;
    expect(describeSweep(ones)).to.equal('1 VM, 1 shell, 1 process, 1 interface, 1 bridge, 1 cgroup, 1 iptables rule, 1 file, 1 device put back');
    expect(describeSweep({ ...NOTHING, devices: 2, vms: 3, bridges: 2 })).to.equal('3 VMs, 2 bridges, 2 devices put back');
  });
});
