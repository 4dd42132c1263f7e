// tune=latency with a real guest here (TCG, 2 cores: one tuned host with
// cpus=2 beside a namespace host): where QEMU's threads run, the hugepages
// its memory takes and gives back, the guest's own isolation; and each
// refusal in one line, leaving nothing. (The command line and the domain
// XML: test/unit/tune.test.ts; KVM, SCHED_FIFO and a VF's interrupts: the
// testbed test.)
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectClean, mnkvm, Mnkvm, SCRIPTS } from './helpers.js';

const NR = '/proc/sys/vm/nr_hugepages';
const FREE = '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages';
const read = (path: string) => Number(readFileSync(path, 'utf8').trim());
/** A tuned host of mem=256 takes 128 pages of 2 MiB. */
const PAGES = 128;

describe('KVM hosts with tune=latency (TCG here)', function () {
  let before = 0;
  // The test reserves the hugepages a tuned guest needs, and gives them back.
  beforeEach(() => {
    before = read(NR);
    writeFileSync(NR, String(before + PAGES));
    expect(read(FREE), 'the kernel could not reserve hugepages').to.be.at.least(PAGES);
  });
  afterEach(async () => {
    await expectClean();
    writeFileSync(NR, String(before));
  });

  it('pins vCPU 1 alone on its core and everything else on the others, puts the guest on hugepages, and isolates vCPU 1 in the guest', async () => {
    const free = read(FREE);
    const r = await mnkvm(['run', join(SCRIPTS, 'tuned.py')]);
    expect(r.code, r.out + r.err).to.equal(0);
    expect(r.err).to.contain('*** h1: tune=latency: vCPU 1 on core 1, vCPU 0 and QEMU on 0, 128 hugepages of 2 MiB');
    expect(r.err).to.contain('*** mnkvm: tune=latency hosts boot cold');
    const t = JSON.parse(/^TUNED (.*)$/m.exec(r.out)?.[1] ?? 'null') as {
      loss: number; isolatedCpus: number[]; threads: Record<string, string[]>; shell: string; mininet: string[]; popen: string; hugepagesFree: number;
      guest: Record<string, string>;
    };
    expect(t.loss, r.out).to.equal(0);
    expect(t.isolatedCpus).to.deep.equal([1]);
    // QEMU's threads (named by debug-threads=on): vCPU 1 alone on core 1, vCPU 0 and every other thread on core 0
    // (no SCHED_FIFO: under TCG a vCPU thread is the emulator, and core 1 is not isolated here)
    expect(t.threads['CPU 1/TCG'], JSON.stringify(t.threads)).to.deep.equal(['1 other']);
    expect(t.threads['CPU 0/TCG']).to.deep.equal(['0 other']);
    const others = Object.entries(t.threads).filter(([name]) => name !== 'CPU 1/TCG').flatMap(([, cores]) => cores);
    expect(others.length).to.be.above(2);
    expect([...new Set(others)]).to.deep.equal(['0 other']);
    // the host's shell (and what it starts), and its SSH sessions, on the housekeeping core
    expect(t.shell).to.equal('0');
    // mnkvm's own processes: Mininet's Python, the namespace host's shell
    expect(t.mininet).to.deep.equal(['0', '0']);
    expect(t.popen).to.match(/^exec mnexec -da "\$0" taskset -c 0 ssh /);
    // the guest's 256 MiB on 128 hugepages while it runs, given back after
    expect(t.hugepagesFree).to.equal(free - PAGES);
    expect(read(FREE)).to.equal(free);
    // in the guest: vCPU 1 isolated, tickless, without RCU callbacks or unbound interrupts; no THP
    expect(t.guest.cmdline).to.contain('isolcpus=managed_irq,domain,1 nohz_full=1 rcu_nocbs=1 irqaffinity=0');
    expect(t.guest.isolated).to.equal('1');
    expect(t.guest.nohzFull).to.equal('1');
    expect(t.guest.irqDefault).to.equal('1');
    expect(t.guest.nicIrqs.trim()).to.equal('0');
    expect(t.guest.thp).to.contain('[never]');
  });

  it('refuses in one line, leaving nothing: no free hugepages, cpus=1, a core the machine lacks, a core another host or run holds', async () => {
    const topo = ['--topo', 'single,1', '--switch', 'lxbr', '--controller', 'none', '--test', 'none'];
    let r = await mnkvm([...topo, '--host', 'kvm,tune=latency,cpus=1,cores=1']);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^mnkvm: h1: tune=latency needs cpus=2 or more \(vCPU 0 keeps the guest's housekeeping, vCPUs 1 and up are isolated\): give cpus=2$/m);
    r = await mnkvm([...topo, '--host', 'kvm,tune=latency,cpus=2,cores=5']);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^mnkvm: h1: cores=5: this machine has no core 5 \(its cores: 0-\d+\)$/m);
    // the hugepages: another run's, or none reserved
    writeFileSync(NR, String(before));
    r = await mnkvm([...topo, '--host', 'kvm,tune=latency,cpus=2,cores=1']);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^mnkvm: h1: tune=latency puts mem=256 on 128 hugepages of 2 MiB and \d+ are free \(of \d+\): reserve them \(echo \d+ > \/proc\/sys\/vm\/nr_hugepages; on a server the kernel role's kernel_hugepages\)$/m);
    writeFileSync(NR, String(before + PAGES));
    // two hosts of one run on one core
    r = await mnkvm([...topo.map((a) => (a === 'single,1' ? 'single,2' : a)), '--host', 'kvm,tune=latency,cpus=2,cores=1']);
    expect(r.code).to.equal(1);
    // (after Mininet's "h1 " of *** Adding hosts: on its line)
    expect(r.err).to.match(/^h1 mnkvm: h2: core 1 is dedicated to h1 of this run: give other cores=, or stop that run$/m);
    // a core another run has dedicated to its host
    const first = new Mnkvm(['--topo', 'single,1', '--switch', 'lxbr', '--controller', 'none', '--host', 'kvm,tune=latency,cpus=2,cores=1']);
    await first.waitFor(/mininet> $/, { stdoutOnly: true });
    // (a network without links: its names do not clash with the first run's)
    r = await mnkvm(['run', join(SCRIPTS, 'onehost.py'), '--host', 'kvm,tune=latency,cpus=2,cores=1', '--', 'hx']);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^mnkvm: hx: core 1 is dedicated to pid \d+: mnkvm --topo single,1 .*: give other cores=, or stop that run$/m);
    first.send('exit\n');
    expect((await first.done).code).to.equal(0);
  });
});
