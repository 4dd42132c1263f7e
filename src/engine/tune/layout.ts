// tune=latency: a KVM host laid out as the real-time virtualization guides
// lay out a guest (libvirt's "KVM Real Time Guest Config", RHEL's
// realtime-virtual-host/-guest profiles, Nova's hw:cpu_realtime with one
// non-real-time vCPU; docs/latency-tuning.md says which knob comes from
// where). vCPU 0 keeps the guest's housekeeping and shares the machine's
// housekeeping cores with QEMU's own threads and everything else mnkvm runs
// for the host; vCPUs 1..N-1 each get a core of their own, claimed as every
// global name is, so that no two runs ever share one. The guest's memory is
// on 2 MiB hugepages, preallocated and locked.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MnkvmError } from '../errors.js';
import { pinThreads, runOk } from '../proc.js';
import { formatCpuList, parseCpuList } from './cpus.js';

export type Tune = 'none' | 'latency';

/** The hugepages a tuned guest's memory is on (KiB, as sysfs names them): the size the kernel role reserves (hugepagesz=2M). */
export const LATENCY_PAGE_KIB = 2048;

/** Where a tuned host's threads run, on this machine. */
export interface LatencyLayout {
  /** vCPU i runs alone on dedicated[i - 1] (i >= 1). */
  dedicated: number[];
  /** vCPU 0, QEMU's emulator and I/O threads, the file server, the host's shell and its SSH sessions. */
  housekeeping: number[];
  /**
   * The vCPU threads may run SCHED_FIFO (with KVM): every dedicated core is
   * isolated from the machine's scheduler (isolcpus), and RT throttling is
   * off (else a SCHED_FIFO vCPU that never sleeps, as one with cpu-pm=on,
   * is stopped for 50 ms of every second).
   */
  fifo: boolean;
  /** The 2 MiB pages the guest's memory takes. */
  hugepages: number;
}

/** What the layout is planned from: this machine's cores and hugepages (sysfs, under root for the tests). */
export interface CpuFacts {
  online: number[];
  isolated: number[];
  /** Each core's SMT siblings (itself included). */
  siblings: Map<number, number[]>;
  hugepagesFree: number;
  hugepagesTotal: number;
  /** kernel.sched_rt_runtime_us: -1 is RT throttling off (null: the kernel has none). */
  rtRuntimeUs: number | null;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function readCpuFacts(root = '/'): CpuFacts {
  const rtRuntime = readText(join(root, 'proc/sys/kernel/sched_rt_runtime_us')).trim();
  const cpu = join(root, 'sys/devices/system/cpu');
  const online = parseCpuList(readText(join(cpu, 'online')));
  const siblings = new Map(online.map((c) => {
    const list = parseCpuList(readText(join(cpu, `cpu${c}`, 'topology/thread_siblings_list')));
    return [c, list.length ? list : [c]] as const;
  }));
  const pages = join(root, `sys/kernel/mm/hugepages/hugepages-${LATENCY_PAGE_KIB}kB`);
  return {
    online, siblings,
    isolated: parseCpuList(readText(join(cpu, 'isolated'))),
    hugepagesFree: existsSync(pages) ? Number(readText(join(pages, 'free_hugepages')).trim()) || 0 : 0,
    hugepagesTotal: existsSync(pages) ? Number(readText(join(pages, 'nr_hugepages')).trim()) || 0 : 0,
    rtRuntimeUs: rtRuntime === '' ? null : Number(rtRuntime),
  };
}

/** What a tuned host asks for. */
export interface LatencyAsk { name: string; cpus: number; mem: number; cores: number[] | null }

/**
 * The layout of a tuned host, or the one line that says why there is none.
 * taken(core): the run that holds a core now (null: free), so that a core
 * another run dedicates is never chosen; pagesPlanned: hugepages this run's
 * other tuned hosts will take and have not taken yet.
 */
export function planLatency(ask: LatencyAsk, facts: CpuFacts, taken: (core: number) => string | null, pagesPlanned = 0): { layout: LatencyLayout; warnings: string[] } {
  const { name, cpus, mem } = ask;
  if (cpus < 2) {
    throw new MnkvmError(`${name}: tune=latency needs cpus=2 or more (vCPU 0 keeps the guest's housekeeping, vCPUs 1 and up are isolated): give cpus=2`);
  }
  const need = cpus - 1;
  let dedicated: number[];
  if (ask.cores) {
    const missing = ask.cores.filter((c) => !facts.online.includes(c));
    if (missing.length) {
      throw new MnkvmError(`${name}: cores=${ask.cores.join('+')}: this machine has no core ${missing.join(', ')} (its cores: ${formatCpuList(facts.online)})`);
    }
    if (ask.cores.length < need) {
      throw new MnkvmError(`${name}: tune=latency with cpus=${cpus} needs ${need} dedicated core${need > 1 ? 's' : ''} (one per vCPU but vCPU 0): cores=${ask.cores.join('+')} names ${ask.cores.length}`);
    }
    dedicated = ask.cores.slice(0, need);
    const held = dedicated.map((c) => [c, taken(c)] as const).filter(([, run]) => run !== null);
    if (held.length) {
      throw new MnkvmError(`${name}: core ${held.map(([c, run]) => `${c} is dedicated to ${run}`).join(', ')}: give other cores=, or stop that run`);
    }
  } else {
    const free = facts.isolated.filter((c) => taken(c) === null);
    if (free.length < need) {
      const held = facts.isolated.filter((c) => taken(c) !== null).map((c) => `${c} (${taken(c)})`);
      const isolated = facts.isolated.length ? `isolated cores ${formatCpuList(facts.isolated)}${held.length ? `, taken: ${held.join(', ')}` : ''}` : 'no isolated core';
      throw new MnkvmError(`${name}: tune=latency needs ${need} dedicated core${need > 1 ? 's' : ''} and this machine has ${isolated}: give cores=N, or isolate cores (isolcpus; on a server the kernel role's kernel_isolated_cores)`);
    }
    dedicated = free.slice(0, need);
  }
  const housekeeping = facts.online.filter((c) => !facts.isolated.includes(c) && !dedicated.includes(c) && taken(c) === null);
  if (!housekeeping.length) {
    throw new MnkvmError(`${name}: tune=latency leaves no housekeeping core for vCPU 0 and QEMU's threads (cores ${formatCpuList(facts.online)}, dedicated: ${formatCpuList(dedicated)}): give it fewer cpus`);
  }
  const hugepages = Math.ceil((mem * 1024) / LATENCY_PAGE_KIB);
  if (facts.hugepagesFree - pagesPlanned < hugepages) {
    const free = facts.hugepagesFree - pagesPlanned;
    throw new MnkvmError(`${name}: tune=latency puts mem=${mem} on ${hugepages} hugepages of 2 MiB and ${Math.max(0, free)} are free (of ${facts.hugepagesTotal}): reserve them (echo ${facts.hugepagesTotal + hugepages - free} > /proc/sys/vm/nr_hugepages; on a server the kernel role's kernel_hugepages)`);
  }
  const warnings = dedicated.flatMap((c) => {
    const shared = (facts.siblings.get(c) ?? [c]).filter((s) => s !== c && !dedicated.includes(s));
    return shared.length ? [`*** ${name}: core ${c} shares its SMT core with ${shared.join(', ')}, which runs other work: its vCPU's latency depends on it (disable SMT, or dedicate both siblings)`] : [];
  });
  const isolated = dedicated.every((c) => facts.isolated.includes(c));
  const throttled = facts.rtRuntimeUs !== -1;
  if (isolated && throttled) {
    warnings.push(`*** ${name}: its vCPU threads stay SCHED_OTHER: RT throttling is on (kernel.sched_rt_runtime_us=${facts.rtRuntimeUs}), which would stop a SCHED_FIFO vCPU for 50 ms of every second (docs/latency-tuning.md: turning it off)`);
  }
  return { layout: { dedicated, housekeeping, fifo: isolated && !throttled, hugepages }, warnings };
}

/**
 * The guest side (vCPUs 1..N-1 isolated in the guest; docs/latency-tuning.md):
 * no scheduler balancing, tick, RCU callbacks or unbound interrupts there;
 * a polling idle that halts when the wait is long (cpuidle-haltpoll, not
 * idle=poll: vCPU 0 shares the housekeeping cores); no lockup watchdogs
 * (their timers tick on every vCPU); no THP (khugepaged's scans and
 * compaction stall a task).
 */
export function latencyCmdline(cpus: number): string[] {
  const isolated = formatCpuList(Array.from({ length: cpus - 1 }, (_, i) => i + 1));
  return [
    `isolcpus=managed_irq,domain,${isolated}`, `nohz_full=${isolated}`, `rcu_nocbs=${isolated}`, 'irqaffinity=0',
    'cpuidle_haltpoll.force=1', 'nowatchdog', 'nosoftlockup', 'transparent_hugepage=never',
  ];
}

/**
 * Pin a tuned guest's QEMU (paused, before its vCPUs first run): every
 * thread to the housekeeping cores, then vCPU i (i >= 1, its thread id from
 * QMP's query-cpus-fast) alone to its dedicated core, SCHED_FIFO priority 1
 * where fifo (KVM, and the core isolated: as libvirt's real-time guide does;
 * under TCG a vCPU thread is the emulator itself and must stay fair).
 * Threads QEMU starts later are started by its main thread, and inherit its
 * housekeeping cores.
 */
export async function pinTuned(what: string, qemuPid: number, vcpus: { index: number; tid: number }[], layout: LatencyLayout, fifo: boolean): Promise<void> {
  await pinThreads(what, qemuPid, layout.housekeeping);
  for (const { index, tid } of vcpus.filter((v) => v.index >= 1)) {
    const core = layout.dedicated[index - 1];
    if (core === undefined) continue;
    await runOk('taskset', ['--pid', '--cpu-list', String(core), String(tid)]);
    if (fifo) await runOk('chrt', ['--fifo', '--pid', '1', String(tid)]);
  }
}

/** The pids of pid's process tree below it (from /proc/PID/task/TID/children). */
function descendants(pid: number): number[] {
  const children = (p: number): number[] => {
    try {
      return readdirSync(`/proc/${p}/task`).flatMap((tid) => readText(`/proc/${p}/task/${tid}/children`).split(' ').filter(Boolean).map(Number));
    } catch {
      return [];   // exited meanwhile
    }
  };
  const found: number[] = [];
  for (let todo = children(pid); todo.length;) {
    const next = todo.shift()!;
    found.push(next);
    todo.push(...children(next));
  }
  return found;
}

/**
 * mnkvm's own processes onto the housekeeping cores: this process, the
 * bridge's Python, Mininet's shells and what runs in them, file servers and
 * relays (what they start later inherits it); not the guests' QEMUs
 * (named mnkvm:HOST), whose threads their backend places. Synchronous: the
 * Python side waits for the engine call meanwhile, so no process of the
 * run starts unpinned. A process that ends meanwhile is no matter.
 */
export function pinRunProcesses(cores: number[]): void {
  const qemu = (pid: number) => readText(`/proc/${pid}/comm`).startsWith('mnkvm:');
  for (const pid of [process.pid, ...descendants(process.pid)].filter((p) => !qemu(p))) {
    spawnSync('taskset', ['--all-tasks', '--pid', '--cpu-list', formatCpuList(cores), String(pid)], { stdio: 'ignore' });
  }
}

/**
 * Steer the host interrupts of a VF passed through (vfio-msix[N](PCI) in
 * /proc/interrupts) to the housekeeping cores: the guest takes its device
 * interrupts on vCPU 0 (irqaffinity=0), which runs there, and the dedicated
 * cores get no host interrupt (docs/latency-tuning.md says why). Returns the
 * interrupts steered; one that cannot be steered (a managed one) stays.
 */
export function steerVfIrqs(pci: string, cores: number[], root = '/'): number[] {
  const irqs = readText(join(root, 'proc/interrupts')).split('\n')
    .filter((line) => line.includes('vfio-msix') && line.includes(`(${pci})`))
    .map((line) => Number(/^\s*(\d+):/.exec(line)?.[1])).filter((irq) => Number.isInteger(irq));
  return irqs.filter((irq) => {
    try {
      writeFileSync(join(root, `proc/irq/${irq}/smp_affinity_list`), formatCpuList(cores));
      return true;
    } catch {
      return false;
    }
  });
}
