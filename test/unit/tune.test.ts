// tune=latency without a VM: the layout a tuned host gets on a machine
// (sysfs fixture trees), each refusal's one line, the QEMU command line and
// the libvirt domain (checked by libvirt's own schema), and the VF
// interrupts steered. A real tuned guest: test/tune.test.ts.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { kernelCmdline } from '../../src/engine/guest/contract.js';
import { domainXml } from '../../src/engine/libvirt/domain.js';
import { kvmHostOptions } from '../../src/engine/options.js';
import { qemuArgs, type VmSpec } from '../../src/engine/qemu/args.js';
import { formatCpuList, parseCpuList } from '../../src/engine/tune/cpus.js';
import { latencyCmdline, planLatency, readCpuFacts, steerVfIrqs, type CpuFacts, type LatencyLayout } from '../../src/engine/tune/layout.js';

const image = { name: 'default', dir: '/i', kernel: '/i/k', initramfs: '/i/r', sshKey: '/i/key', key: 'k', rootfs: null };
const layout: LatencyLayout = { dedicated: [3], housekeeping: [0, 1], fifo: true, hugepages: 128 };

/** A machine: cores 0..n-1, these isolated, free hugepages, SMT pairs (c, c + n/2) where smt. */
function machine(n: number, isolated: number[], free: number, smt = false, rtRuntimeUs: number | null = -1): CpuFacts {
  const online = Array.from({ length: n }, (_, i) => i);
  const siblings = new Map(online.map((c) => [c, smt ? [c % (n / 2), c % (n / 2) + n / 2] : [c]]));
  return { online, isolated, siblings, hugepagesFree: free, hugepagesTotal: free, rtRuntimeUs };
}

const free = () => null;
const ask = { name: 'h1', cpus: 2, mem: 256, cores: null };

function fails(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('did not fail');
}

describe('tune=latency: the layout of a tuned host (src/engine/tune.ts)', function () {
  it('is an option of the one definition, none by default', () => {
    expect(kvmHostOptions({}).tune).to.equal('none');
    expect(kvmHostOptions({ tune: 'latency' }).tune).to.equal('latency');
    expect(fails(() => kvmHostOptions({ tune: 'fast' }))).to.equal('KVM host option tune=fast: must be one of none, latency');
  });

  it('gives vCPUs 1 and up isolated cores of their own, vCPU 0 and QEMU the others, and counts the hugepages', () => {
    expect(planLatency(ask, machine(4, [2, 3], 200), free)).to.deep.equal({
      layout: { dedicated: [2], housekeeping: [0, 1], fifo: true, hugepages: 128 }, warnings: [] });
    // cores= names them (here, where no core is isolated: not isolated, so no SCHED_FIFO)
    expect(planLatency({ ...ask, cpus: 3, cores: [1, 0] }, machine(4, [], 128), free).layout)
      .to.deep.equal({ dedicated: [1, 0], housekeeping: [2, 3], fifo: false, hugepages: 128 });
    // a core another run holds is not chosen; the hugepages this run gave other hosts are not free
    expect(planLatency(ask, machine(4, [2, 3], 300), (c) => (c === 2 ? 'pid 9: mnkvm' : null), 100).layout.dedicated).to.deep.equal([3]);
  });

  it('says in one line why a host gets no layout', () => {
    expect(fails(() => planLatency({ ...ask, cpus: 1 }, machine(2, [], 200), free)))
      .to.equal("h1: tune=latency needs cpus=2 or more (vCPU 0 keeps the guest's housekeeping, vCPUs 1 and up are isolated): give cpus=2");
    expect(fails(() => planLatency(ask, machine(2, [], 200), free)))
      .to.equal('h1: tune=latency needs 1 dedicated core and this machine has no isolated core: give cores=N, or isolate cores (isolcpus; on a server the kernel role\'s kernel_isolated_cores)');
    expect(fails(() => planLatency(ask, machine(4, [3], 200), () => 'pid 9: mnkvm --topo single,1')))
      .to.contain('this machine has isolated cores 3, taken: 3 (pid 9: mnkvm --topo single,1): give cores=N');
    expect(fails(() => planLatency({ ...ask, cores: [5] }, machine(2, [], 200), free)))
      .to.equal('h1: cores=5: this machine has no core 5 (its cores: 0-1)');
    expect(fails(() => planLatency({ ...ask, cpus: 3, cores: [1] }, machine(4, [], 200), free)))
      .to.equal('h1: tune=latency with cpus=3 needs 2 dedicated cores (one per vCPU but vCPU 0): cores=1 names 1');
    expect(fails(() => planLatency({ ...ask, cores: [1] }, machine(2, [], 200), (c) => (c === 1 ? 'pid 9: mnkvm' : null))))
      .to.equal('h1: core 1 is dedicated to pid 9: mnkvm: give other cores=, or stop that run');
    expect(fails(() => planLatency({ ...ask, cores: [1] }, machine(2, [], 100), free)))
      .to.equal('h1: tune=latency puts mem=256 on 128 hugepages of 2 MiB and 100 are free (of 100): reserve them (echo 128 > /proc/sys/vm/nr_hugepages; on a server the kernel role\'s kernel_hugepages)');
    expect(fails(() => planLatency({ ...ask, cores: [0] }, machine(1, [], 200), free))).to.contain('leaves no housekeeping core');
  });

  it('keeps vCPU threads SCHED_OTHER, saying why in one line, where RT throttling is on', () => {
    const { layout: l, warnings } = planLatency(ask, machine(4, [2, 3], 200, false, 950000), free);
    expect(l.fifo).to.equal(false);
    expect(warnings).to.deep.equal(['*** h1: its vCPU threads stay SCHED_OTHER: RT throttling is on (kernel.sched_rt_runtime_us=950000), which would stop a SCHED_FIFO vCPU for 50 ms of every second (docs/latency-tuning.md: turning it off)']);
  });

  it('warns, in one line, where a dedicated core shares its SMT core with other work', () => {
    expect(planLatency({ ...ask, cores: [1] }, machine(4, [], 200, true), free).warnings)
      .to.deep.equal(['*** h1: core 1 shares its SMT core with 3, which runs other work: its vCPU\'s latency depends on it (disable SMT, or dedicate both siblings)']);
  });

  it('reads the machine from sysfs (a fixture tree), and CPU lists as the kernel writes them', () => {
    const root = mkdtempSync(join(tmpdir(), 'mnkvm-tune-'));
    try {
      const put = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      put('sys/devices/system/cpu/online', '0-3\n');
      put('sys/devices/system/cpu/isolated', '2-3\n');
      for (const c of [0, 1, 2, 3]) put(`sys/devices/system/cpu/cpu${c}/topology/thread_siblings_list`, `${c % 2},${c % 2 + 2}\n`);
      put('sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages', '60\n');
      put('sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages', '64\n');
      const facts = readCpuFacts(root);
      expect(facts).to.deep.include({ online: [0, 1, 2, 3], isolated: [2, 3], hugepagesFree: 60, hugepagesTotal: 64, rtRuntimeUs: null });
      expect(facts.siblings.get(3)).to.deep.equal([1, 3]);
      // the interrupts of a VF passed through go to the housekeeping cores
      put('proc/interrupts', '           CPU0       CPU1\n 40:  1  0  IR-PCI-MSIX-0000:01:10.0  0-edge  vfio-msix[0](0000:01:10.0)\n'
        + ' 41:  0  0  IR-PCI-MSIX-0000:01:10.0  1-edge  vfio-msix[1](0000:01:10.0)\n 42:  5  0  IR-PCI-MSIX  0-edge  vfio-msix[0](0000:01:10.2)\n');
      for (const irq of [40, 41, 42]) put(`proc/irq/${irq}/smp_affinity_list`, '0-3\n');
      expect(steerVfIrqs('0000:01:10.0', [0, 1], root)).to.deep.equal([40, 41]);
      expect(readFileSync(join(root, 'proc/irq/41/smp_affinity_list'), 'utf8')).to.equal('0-1');
      expect(readFileSync(join(root, 'proc/irq/42/smp_affinity_list'), 'utf8')).to.equal('0-3\n');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(parseCpuList('0-2,5,7-8')).to.deep.equal([0, 1, 2, 5, 7, 8]);
    expect(formatCpuList([5, 0, 1, 2, 8, 7])).to.equal('0-2,5,7-8');
  });

  it('isolates vCPUs 1 and up in the guest', () => {
    expect(latencyCmdline(3)).to.deep.equal(['isolcpus=managed_irq,domain,1-2', 'nohz_full=1-2', 'rcu_nocbs=1-2', 'irqaffinity=0',
      'cpuidle_haltpoll.force=1', 'nowatchdog', 'nosoftlockup', 'transparent_hugepage=never']);
    expect(kernelCmdline('kvm', image, layout)).to.contain(' isolcpus=managed_irq,domain,1 nohz_full=1 rcu_nocbs=1 irqaffinity=0');
    expect(kernelCmdline('kvm', image)).not.to.contain('isolcpus');
  });
});

describe('tune=latency: the QEMU command line and the libvirt domain', function () {
  const spec: VmSpec = { name: 'h1', nsPid: 1, dir: '/run/x', accel: 'kvm', mem: 256, cpus: 2, share: null, bootTimeout: 60, layout, image, boot: { kind: 'cold' } };
  const value = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

  it('QEMU: memory on hugepages, preallocated and locked; with KVM the host CPU with the invariant TSC, no PMU, idle without exits', () => {
    const args = qemuArgs(spec, true);
    expect(value(args, '-object')).to.include('memory-backend-memfd,id=ram0,size=256M,hugetlb=on,hugetlbsize=2M,prealloc=on,share=off');
    expect(value(args, '-machine')).to.include('memory-backend=ram0');
    expect(value(args, '-overcommit')).to.deep.equal(['mem-lock=on', 'cpu-pm=on']);
    expect(value(args, '-cpu')).to.deep.equal(['host,+invtsc,pmu=off']);
    expect(value(args, '-append')[0]).to.contain('nohz_full=1');
    // under TCG: the layout and the memory, not the KVM knobs
    const tcg = qemuArgs({ ...spec, accel: 'tcg' }, true);
    expect(value(tcg, '-overcommit')).to.deep.equal(['mem-lock=on']);
    expect(value(tcg, '-cpu')).to.deep.equal(['max']);
    // untuned: none of it
    const plain = qemuArgs({ ...spec, layout: null }, true);
    expect(plain).not.to.include('-overcommit');
    expect(value(plain, '-cpu')).to.deep.equal(['host']);
  });

  const guest = { ...spec, nsPid: 1, boot: 'cold' as const, backend: 'libvirt' as const, uri: 'qemu:///system', tune: 'latency' as const };
  const parts = { domain: 'mnkvm-run-1-2-h1', emulator: '/usr/bin/qemu-system-x86_64', accel: 'kvm' as const, mgmtTap: 'mkt00000001', firstTap: 'mkt00000002' };

  it("libvirt: <cputune>, <memoryBacking>, host-passthrough with invtsc, no PMU, as libvirt's real-time guide writes them", () => {
    const xml = domainXml(guest, parts);
    expect(xml).to.contain("<cputune><vcpupin vcpu='0' cpuset='0-1'/><vcpupin vcpu='1' cpuset='3'/><emulatorpin cpuset='0-1'/>"
      + "<vcpusched vcpus='1-1' scheduler='fifo' priority='1'/></cputune>");
    expect(xml).to.contain("<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages><nosharepages/><locked/>"
      + "<source type='memfd'/><access mode='private'/><allocation mode='immediate'/></memoryBacking>");
    expect(xml).to.contain("<cpu mode='host-passthrough'><feature policy='require' name='invtsc'/></cpu>");
    expect(xml).to.contain("<pmu state='off'/>").and.to.contain('nohz_full=1');
    // a dedicated core that is not isolated: no SCHED_FIFO; TCG: neither PMU nor host CPU
    expect(domainXml({ ...guest, layout: { ...layout, fifo: false } }, parts)).not.to.contain('vcpusched');
    const tcg = domainXml(guest, { ...parts, accel: 'tcg' });
    expect(tcg).not.to.contain('pmu');
    expect(tcg).to.contain('<cputune>');
  });

  it("libvirt: each domain passes libvirt's schema (virt-xml-validate)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnkvm-xml-'));
    try {
      for (const [name, xml] of Object.entries({
        tuned: domainXml(guest, parts), tunedTcg: domainXml(guest, { ...parts, accel: 'tcg' }), plain: domainXml({ ...guest, layout: null, tune: 'none' }, parts),
      })) {
        writeFileSync(join(dir, `${name}.xml`), xml);
        const r = spawnSync('virt-xml-validate', [join(dir, `${name}.xml`), 'domain'], { encoding: 'utf8' });
        expect(r.status, `${name}: ${r.stdout}${r.stderr}`).to.equal(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
