// The real-time checklist of a KVM host (`mnkvm tune check`): what the
// real-time virtualization guides ask of the machine a measured guest runs
// on (libvirt's "KVM Real Time Guest Config", RHEL's realtime-virtual-host
// TuneD profile, Nova's hw:cpu_realtime, Gallenmüller et al.'s tickless VMs;
// docs/latency-tuning.md says which asks what), read from the files the
// kernel shows under a root folder: '/' on a machine, a fixture tree in unit
// tests. Nothing here writes or runs a command. Each fix names the Ansible
// variable that sets it on a server (ansible/roles/kernel, ansible/roles/isolation).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MnkvmError } from '../errors.js';
import { formatCpuList, parseCpuList } from './cpus.js';
import { LATENCY_PAGE_KIB } from './layout.js';

/** ok: as the guides want it; warn: there, but not as they want it; missing: not there. */
export type TuneState = 'ok' | 'warn' | 'missing';
export const TUNE_STATES: readonly TuneState[] = ['ok', 'warn', 'missing'];

/** One line of the checklist. */
export interface TuneItem {
  name: string;
  state: TuneState;
  /** What the machine has, short. */
  found: string;
  /** What to do (null where ok): how here, and the Ansible variable that does it on a server. */
  fix: string | null;
}

/** A machine's checklist: where (its host name), and one item per knob. */
export interface TuneCheck { where: string; items: TuneItem[] }

/** The hugepages of one size: how many the kernel holds, how many are free, where hugetlbfs serves them. */
export interface HugepagePool { pageKiB: number; total: number; free: number; mounts: string[] }

/** C-states that wake in this many microseconds or less (POLL, C1, a guest's haltpoll) are shallow enough. */
const SHALLOW_EXIT_US = 2;

const ISOLATE = 'isolcpus=LIST nohz_full=LIST rcu_nocbs=LIST on the kernel command line; on a server: kernel_isolated_cores';
const EXTRA = 'on a server: kernel_extra_params';

/** "2 MiB", "1 GiB", "64 KiB". */
export function pageSize(kib: number): string {
  return kib >= 1 << 20 && kib % (1 << 20) === 0 ? `${kib >> 20} GiB` : kib >= 1024 && kib % 1024 === 0 ? `${kib >> 10} MiB` : `${kib} KiB`;
}

/** The command that reserves n hugepages of a size now (the default size through /proc/sys/vm/nr_hugepages). */
function reserveCommand(pageKiB: number, n: number | 'N', defaultPageKiB: number): string {
  return pageKiB === defaultPageKiB ? `echo ${n} > /proc/sys/vm/nr_hugepages` : `echo ${n} > /sys/kernel/mm/hugepages/hugepages-${pageKiB}kB/nr_hugepages`;
}

/** The files of a machine under root, each read once. */
class MachineFiles {
  private readonly cache = new Map<string, string | null>();

  constructor(readonly root: string) {}

  /** A file's text, trimmed; null where it is not there or cannot be read. */
  read(path: string): string | null {
    if (!this.cache.has(path)) {
      let text: string | null;
      try {
        text = readFileSync(join(this.root, path), 'utf8').trim();
      } catch {
        text = null;
      }
      this.cache.set(path, text);
    }
    return this.cache.get(path)!;
  }

  /** A folder's entries (none where it is not there). */
  list(path: string): string[] {
    try {
      return readdirSync(join(this.root, path)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    } catch {
      return [];
    }
  }

  has(path: string): boolean {
    return existsSync(join(this.root, path));
  }

  /** The kernel's command line (what comes before a lone `--` is the kernel's, the rest init's), last value of each. */
  params(): Map<string, string> {
    const params = new Map<string, string>();
    for (const word of (this.read('proc/cmdline') ?? '').split(/\s+/)) {
      if (word === '--') break;
      if (!word) continue;
      const [key, value] = word.split(/=(.*)/s);
      params.set(key, value ?? '');
    }
    return params;
  }

  /** The online cores (from cpu/online, else the cpuN folders). */
  online(): number[] {
    const text = this.read('sys/devices/system/cpu/online');
    if (text !== null) return parseCpuList(text);
    return this.list('sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).map((d) => Number(d.slice(3)));
  }

  cpuList(path: string): number[] {
    return parseCpuList(this.read(path) ?? '', this.online());
  }

  isolated(): number[] {
    return this.cpuList('sys/devices/system/cpu/isolated');
  }

  /** Hugepage size the kernel reserves through /proc/sys/vm/nr_hugepages (meminfo's Hugepagesize). */
  defaultPageKiB(): number {
    const m = /^Hugepagesize:\s+(\d+) kB/m.exec(this.read('proc/meminfo') ?? '');
    return m ? Number(m[1]) : LATENCY_PAGE_KIB;
  }

  /** Each size's pool of hugepages, and the hugetlbfs mounts that serve it. */
  hugepages(): HugepagePool[] {
    const mounts = (this.read('proc/mounts') ?? '').split('\n').map((l) => l.split(' ')).filter((f) => f[2] === 'hugetlbfs')
      .map(([, path, , options]) => ({ path: path.replace(/\\040/g, ' '), pageKiB: mountPageKiB(options ?? '') ?? this.defaultPageKiB() }));
    return this.list('sys/kernel/mm/hugepages').flatMap((dir) => {
      const m = /^hugepages-(\d+)kB$/.exec(dir);
      if (!m) return [];
      const pageKiB = Number(m[1]);
      const count = (file: string) => Number(this.read(`sys/kernel/mm/hugepages/${dir}/${file}`) ?? 0);
      return [{ pageKiB, total: count('nr_hugepages'), free: count('free_hugepages'), mounts: mounts.filter((x) => x.pageKiB === pageKiB).map((x) => x.path) }];
    }).sort((a, b) => a.pageKiB - b.pageKiB);
  }

  /** Lines KEY=VALUE of a shell environment file (quotes dropped), by key. */
  envFile(path: string): Map<string, string> {
    const values = new Map<string, string>();
    for (const line of (this.read(path) ?? '').split('\n')) {
      const m = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
      if (m) values.set(m[1], m[2].trim().replace(/^(["'])(.*)\1$/, '$2'));
    }
    return values;
  }

  /** Whether a process of this name (its comm) runs. */
  running(comm: string): boolean {
    return this.list('proc').some((pid) => /^\d+$/.test(pid) && this.read(`proc/${pid}/comm`) === comm);
  }
}

/** A hugetlbfs mount's pagesize= option ("2M", "1G", "2097152"), in KiB. */
function mountPageKiB(options: string): number | null {
  const m = /(?:^|,)pagesize=(\d+)([KMG]?)/i.exec(options);
  if (!m) return null;
  const unit = { '': 1 / 1024, K: 1, M: 1024, G: 1 << 20 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * unit;
}

const item = (name: string, state: TuneState, found: string, fix: string | null = null): TuneItem => ({ name, state, found, fix });
const minus = (a: number[], b: number[]) => a.filter((c) => !b.includes(c));

function isolatedCores(m: MachineFiles): TuneItem {
  const online = m.online();
  const isolated = m.isolated();
  if (!isolated.length) return item('isolated cores', 'missing', 'none', `isolate the measurement cores (${ISOLATE})`);
  if (!minus(online, isolated).length) {
    return item('isolated cores', 'warn', `${formatCpuList(isolated)}, every online core: none is left for housekeeping`,
      `leave one core out (${ISOLATE})`);
  }
  return item('isolated cores', 'ok', `${formatCpuList(isolated)} of ${formatCpuList(online)} (isolcpus)`);
}

function nohzFull(m: MachineFiles): TuneItem {
  const text = m.read('sys/devices/system/cpu/nohz_full');
  if (text === null) return item('nohz_full', 'missing', 'the kernel has none (no CONFIG_NO_HZ_FULL)', 'boot a kernel built with CONFIG_NO_HZ_FULL');
  const nohz = m.cpuList('sys/devices/system/cpu/nohz_full');
  const isolated = m.isolated();
  if (!nohz.length) return item('nohz_full', 'missing', 'none', `stop the tick on the isolated cores (${ISOLATE})`);
  if (!isolated.length) return item('nohz_full', 'warn', `${formatCpuList(nohz)}, but no core is isolated`, `isolate them too (${ISOLATE})`);
  const ticking = minus(isolated, nohz);
  if (ticking.length) {
    return item('nohz_full', 'warn', `${formatCpuList(nohz)}: isolated ${formatCpuList(ticking)} still tick`, `add them (${ISOLATE})`);
  }
  return item('nohz_full', 'ok', formatCpuList(nohz));
}

function rcuNocbs(m: MachineFiles): TuneItem {
  const param = m.params().get('rcu_nocbs');
  const nocbs = parseCpuList(param ?? '', m.online());
  // nohz_full offloads its cores' RCU callbacks too (kernel/rcu/tree_nocb.h, rcu_init_nohz)
  const nohz = m.cpuList('sys/devices/system/cpu/nohz_full');
  const isolated = m.isolated();
  const fix = `move RCU callbacks off the isolated cores (${ISOLATE})`;
  const given = param === undefined ? 'not on the kernel command line' : `rcu_nocbs=${param}`;
  if (!isolated.length) {
    return param === undefined ? item('rcu_nocbs', 'missing', given, fix) : item('rcu_nocbs', 'warn', `${given}, but no core is isolated`, `isolate them too (${ISOLATE})`);
  }
  const uncovered = minus(isolated, [...nocbs, ...nohz]);
  if (!uncovered.length) {
    return item('rcu_nocbs', 'ok', minus(isolated, nocbs).length ? `${formatCpuList(isolated)} (by nohz_full, which offloads them too)` : `${formatCpuList(isolated)} (${given})`);
  }
  if (uncovered.length === isolated.length) {
    return item('rcu_nocbs', 'missing', param === undefined ? given : `${given}: covers none of isolated ${formatCpuList(isolated)}`, fix);
  }
  return item('rcu_nocbs', 'warn', `${given}: isolated ${formatCpuList(uncovered)} not covered`, fix);
}

function hugepages(m: MachineFiles): TuneItem[] {
  const pools = m.hugepages();
  if (!pools.length) return [item('hugepages', 'missing', 'the kernel has none (no CONFIG_HUGETLBFS)', 'boot a kernel built with CONFIG_HUGETLBFS')];
  return pools.map((pool) => {
    const name = `hugepages ${pageSize(pool.pageKiB)}`;
    const found = `${pool.free} free of ${pool.total}`;
    if (pool.pageKiB !== LATENCY_PAGE_KIB) return item(name, 'ok', `${pool.total ? found : 'none reserved'} (tune=latency uses ${pageSize(LATENCY_PAGE_KIB)} pages)`);
    const server = 'on a server: kernel_hugepages';
    if (!pool.total) return item(name, 'missing', 'none reserved', `reserve them (${reserveCommand(pool.pageKiB, 'N', m.defaultPageKiB())}; ${server})`);
    if (!pool.free) return item(name, 'warn', `${found}: all in use`, `reserve more (${reserveCommand(pool.pageKiB, 'N', m.defaultPageKiB())}, N more than ${pool.total}; ${server})`);
    return item(name, 'ok', `${found} (${(pool.free * pool.pageKiB) >> 10} MiB free)`);
  });
}


/** "a on 0-1, b on 2-3": the cores that have each value. */
function byValue(values: Map<number, string>): string {
  const cores = new Map<string, number[]>();
  for (const [core, value] of values) cores.set(value, [...(cores.get(value) ?? []), core]);
  return [...cores].map(([value, list]) => `${value} on ${formatCpuList(list)}`).join(', ');
}

function governor(m: MachineFiles): TuneItem {
  const governors = new Map<number, string>();
  for (const core of m.online()) governors.set(core, m.read(`sys/devices/system/cpu/cpu${core}/cpufreq/scaling_governor`) ?? 'no cpufreq');
  if ([...governors.values()].every((g) => g === 'no cpufreq')) {
    return item('CPU governor', 'ok', 'no cpufreq (a VM, or no frequency driver): nothing to set here');
  }
  if ([...governors.values()].every((g) => g === 'performance' || g === 'no cpufreq')) return item('CPU governor', 'ok', byValue(governors));
  return item('CPU governor', 'warn', byValue(governors), 'set performance (cpupower frequency-set -g performance; on a server: isolation_governor)');
}

/** irqbalance's banned cores, as its environment file says (IRQBALANCE_BANNED_CPULIST, or the older hex mask); null: none given. */
function irqbalanceBanned(m: MachineFiles): number[] | null {
  const env = m.has('etc/default/irqbalance') ? m.envFile('etc/default/irqbalance') : m.envFile('etc/sysconfig/irqbalance');
  const mask = env.get('IRQBALANCE_BANNED_CPUS');
  if (mask) {
    const bits = BigInt(`0x${mask.replace(/,/g, '')}`);
    return m.online().filter((c) => (bits >> BigInt(c)) & 1n);
  }
  const list = env.get('IRQBALANCE_BANNED_CPULIST');
  return list ? parseCpuList(list, m.online()) : null;
}

function irqbalance(m: MachineFiles): TuneItem {
  if (!m.running('irqbalance')) return item('irqbalance', 'ok', 'not running (interrupts stay where they are put)');
  const isolated = m.isolated();
  if (!isolated.length) return item('irqbalance', 'ok', 'running (no core is isolated)');
  const banned = irqbalanceBanned(m);
  // without a list of its own, irqbalance leaves isolated and nohz_full cores out itself (its setup_banned_cpus)
  if (banned === null) return item('irqbalance', 'ok', 'running; leaves the isolated cores out itself (no IRQBALANCE_BANNED_CPULIST)');
  const open = minus(isolated, banned);
  if (!open.length) return item('irqbalance', 'ok', `running, banned from ${formatCpuList(banned)}`);
  return item('irqbalance', 'warn', `running, may move interrupts onto isolated ${formatCpuList(open)} (banned: ${formatCpuList(banned) || 'none'})`,
    `ban them (IRQBALANCE_BANNED_CPULIST=${formatCpuList([...banned, ...isolated])} in /etc/default/irqbalance, then restart it; on a server: isolation_cores)`);
}

function smt(m: MachineFiles): TuneItem {
  const siblings = new Map(m.online().map((c) => [c, m.cpuList(`sys/devices/system/cpu/cpu${c}/topology/thread_siblings_list`)]));
  const active = m.read('sys/devices/system/cpu/smt/active');
  const on = active === null ? [...siblings.values()].some((s) => s.length > 1) : active === '1';
  if (!on) return item('SMT', 'ok', m.read('sys/devices/system/cpu/smt/control') === 'notsupported' ? 'off (not supported)' : 'off');
  const isolated = m.isolated();
  const off = `turn SMT off (nosmt on the kernel command line; ${EXTRA})`;
  if (!isolated.length) return item('SMT', 'warn', 'on, and no core is isolated', off);
  const shared = isolated.flatMap((c) => minus(siblings.get(c) ?? [], isolated).map((s) => `${c}'s sibling ${s}`));
  if (!shared.length) return item('SMT', 'ok', "on; the isolated cores' siblings are isolated too");
  return item('SMT', 'warn', `on; isolated ${shared.join(', ')} is not isolated`,
    `isolate siblings together (${ISOLATE}), or ${off}`);
}

function thp(m: MachineFiles): TuneItem {
  const text = m.read('sys/kernel/mm/transparent_hugepage/enabled');
  if (text === null) return item('THP', 'ok', 'the kernel has none');
  const mode = /\[(\w+)\]/.exec(text)?.[1] ?? text;
  if (mode === 'never') return item('THP', 'ok', 'never');
  const who = mode === 'madvise' ? 'QEMU asks for them for guest memory' : 'every process gets them';
  return item('THP', 'warn', `${mode}: ${who}, and khugepaged and compaction stall it at times`,
    `turn it off (echo never > /sys/kernel/mm/transparent_hugepage/enabled; at boot transparent_hugepage=never; ${EXTRA})`);
}

function cstates(m: MachineFiles): TuneItem {
  const params = m.params();
  if (params.get('idle') === 'poll') return item('C-states', 'ok', 'idle=poll (idle cores spin)');
  const limits = ['intel_idle.max_cstate', 'processor.max_cstate'].filter((p) => params.has(p)).map((p) => `${p}=${params.get(p)}`);
  const driver = m.read('sys/devices/system/cpu/cpuidle/current_driver');
  const enabled = new Set<string>();
  const deep = new Map<string, number[]>();
  for (const core of m.online()) {
    for (const state of m.list(`sys/devices/system/cpu/cpu${core}/cpuidle`).filter((s) => /^state\d+$/.test(s))) {
      const dir = `sys/devices/system/cpu/cpu${core}/cpuidle/${state}`;
      if (m.read(`${dir}/disable`) === '1') continue;
      const name = m.read(`${dir}/name`) ?? state;
      const exit = Number(m.read(`${dir}/latency`) ?? 0);
      enabled.add(name);
      if (exit > SHALLOW_EXIT_US) {
        const label = `${name} (${exit} µs)`;
        deep.set(label, [...(deep.get(label) ?? []), core]);
      }
    }
  }
  const how = [driver, ...limits].filter(Boolean).join(', ');
  if (!enabled.size) return item('C-states', 'ok', `no cpuidle states (idle cores halt)${how ? `; ${how}` : ''}`);
  if (!deep.size) return item('C-states', 'ok', `${[...enabled].join(', ')} only${how ? ` (${how})` : ''}`);
  const found = [...deep].map(([label, cores]) => `${label} on ${formatCpuList(cores)}`).join(', ');
  return item('C-states', 'warn', `deep states enabled: ${found}${how ? ` (${how})` : ''}`,
    `keep cores out of them (cpupower idle-set -D ${SHALLOW_EXIT_US + 1}; at boot intel_idle.max_cstate=1 processor.max_cstate=1, or idle=poll; ${EXTRA})`);
}

function timerMigration(m: MachineFiles): TuneItem {
  const value = m.read('proc/sys/kernel/timer_migration');
  if (value === null) return item('timer migration', 'ok', 'the kernel has none');
  if (value === '0') return item('timer migration', 'ok', 'off');
  return item('timer migration', 'warn', 'on (timers armed on an idle core may fire on a busy, isolated one)',
    'turn it off (sysctl kernel.timer_migration=0; on a server: isolation_sysctl, 0 by default)');
}

function rtThrottling(m: MachineFiles): TuneItem {
  const value = m.read('proc/sys/kernel/sched_rt_runtime_us');
  if (value === null) return item('RT throttling', 'ok', 'the kernel has none');
  if (value === '-1') return item('RT throttling', 'ok', 'off (sched_rt_runtime_us=-1)');
  return item('RT throttling', 'warn', `on (sched_rt_runtime_us=${value}): a SCHED_FIFO vCPU that never sleeps would stop for 50 ms of every second, so tune=latency leaves its vCPUs SCHED_OTHER`,
    "turn it off where the isolated cores' per-CPU kernel threads run at a higher SCHED_FIFO priority than the vCPUs, as RHEL's realtime-virtual-host sets them (sysctl kernel.sched_rt_runtime_us=-1; on a server: isolation_sysctl)");
}

function haltPolling(m: MachineFiles): TuneItem {
  const value = m.read('sys/module/kvm/parameters/halt_poll_ns');
  if (!m.has('sys/module/kvm')) return item('halt polling', 'missing', 'no kvm module', 'load KVM (modprobe kvm_intel or kvm_amd; virtualization on in the firmware)');
  if (value === null) return item('halt polling', 'warn', 'kvm has no halt_poll_ns', 'use a kernel whose KVM polls before a vCPU sleeps (Linux 4.0 or newer)');
  // (tune=latency's vCPUs do not halt at all: cpu-pm=on; polling speeds up untuned guests' wake-ups)
  if (Number(value) > 0) return item('halt polling', 'ok', `${value} ns`);
  return item('halt polling', 'warn', 'off (0 ns): a halted vCPU wakes through the scheduler',
    `turn it on (echo 200000 > /sys/module/kvm/parameters/halt_poll_ns; at boot kvm.halt_poll_ns=200000; ${EXTRA})`);
}

const isOn = (value: string | null) => value === 'Y' || value === '1';

function postedInterrupts(m: MachineFiles): TuneItem {
  const kvmFix = 'enable KVM (virtualization on in the firmware, modprobe kvm_intel or kvm_amd; in a VM: nested virtualization)';
  if (!m.has('dev/kvm')) return item('posted interrupts', 'missing', 'no /dev/kvm (guests run under TCG)', kvmFix);
  if (m.has('sys/module/kvm_intel')) {
    const apicv = m.read('sys/module/kvm_intel/parameters/enable_apicv');
    if (isOn(apicv)) return item('posted interrupts', 'ok', 'APICv on (kvm_intel)');
    return item('posted interrupts', 'warn', `APICv ${apicv === null ? 'unknown' : 'off'} (kvm_intel; off by choice or the CPU lacks it): each interrupt to a guest exits`,
      `turn it on where the CPU has it (kvm_intel.enable_apicv=1 on the kernel command line; ${EXTRA})`);
  }
  if (m.has('sys/module/kvm_amd')) {
    const avic = m.read('sys/module/kvm_amd/parameters/avic');
    if (isOn(avic)) return item('posted interrupts', 'ok', 'AVIC on (kvm_amd)');
    return item('posted interrupts', 'warn', `AVIC ${avic === null ? 'unknown' : 'off'} (kvm_amd): each interrupt to a guest exits`,
      `turn it on where the CPU has it (kvm_amd.avic=1 on the kernel command line; ${EXTRA})`);
  }
  const others = m.list('sys/module').filter((mod) => /^kvm_/.test(mod));
  return item('posted interrupts', 'warn', `/dev/kvm, but neither kvm_intel nor kvm_amd${others.length ? ` (${others.join(', ')})` : ''}: no APICv or AVIC to check`,
    'measure on a host whose KVM is kvm_intel (APICv) or kvm_amd (AVIC)');
}

function iommu(m: MachineFiles): TuneItem {
  const units = m.list('sys/class/iommu');
  const params = m.params();
  const given = ['intel_iommu', 'amd_iommu', 'iommu'].filter((p) => params.has(p)).map((p) => `${p}=${params.get(p)}`);
  const how = given.length ? ` (${given.join(' ')})` : '';
  if (units.length) return item('IOMMU', 'ok', `${units.join(', ')}${how}`);
  return item('IOMMU', 'missing', `none${how}: VFs cannot be passed through`,
    'turn it on (intel_iommu=on iommu=pt or amd_iommu=on iommu=pt on the kernel command line, VT-d or AMD-Vi on in the firmware; on a server: kernel_iommu)');
}

/** The checklist of the machine under root ('/': this one), in the order docs/latency-tuning.md lists it. */
export function tuneCheck(root = '/'): TuneCheck {
  const m = new MachineFiles(root);
  const where = m.read('proc/sys/kernel/hostname') ?? m.read('etc/hostname') ?? 'unknown';
  return {
    where,
    items: [isolatedCores(m), nohzFull(m), rcuNocbs(m), ...hugepages(m), governor(m), irqbalance(m), smt(m), thp(m),
      cstates(m), timerMigration(m), rtThrottling(m), haltPolling(m), postedInterrupts(m), iommu(m)],
  };
}

/** One line per item: `ok       isolated cores: 2-3 of 0-3 (isolcpus)`, `missing  hugepages 2 MiB: none reserved: reserve them (...)`. */
export function tuneLines(check: TuneCheck): string[] {
  return check.items.map((i) => `${i.state.padEnd(8)} ${i.name}: ${i.found}${i.fix ? `: ${i.fix}` : ''}`);
}

/** A checklist as another mnkvm printed it (`mnkvm tune check --json`); one line where it is none. */
export function parseTuneCheck(text: string): TuneCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  const check = value as Partial<TuneCheck> | null;
  const isItem = (i: Partial<TuneItem> | null) => !!i && typeof i.name === 'string' && TUNE_STATES.includes(i.state as TuneState)
    && typeof i.found === 'string' && (i.fix === null || typeof i.fix === 'string');
  if (!check || typeof check.where !== 'string' || !Array.isArray(check.items) || !check.items.every(isItem)) {
    throw new MnkvmError(`not a tune checklist (${text.trim().split('\n')[0]?.slice(0, 80) || 'no output'})`);
  }
  return { where: check.where, items: check.items.map(({ name, state, found, fix }) => ({ name, state, found, fix })) };
}
