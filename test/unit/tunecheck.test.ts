// `mnkvm tune check`: the real-time checklist read from fixture trees laid
// out as the kernel lays them out (test/fixtures/tune: a measurement server
// as the kernel and isolation roles leave it, a stock 2-core VM), each item's
// states on copies of them changed file by file, what a tuned host needs,
// the servers' answers as --servers reads them, and this machine itself (it
// only reads files). No VMs, no SSH: a few seconds.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { serverLines, serverTuneCheck, type ServerTuneCheck } from '../../src/cli/tune.js';
import { fingerprint } from '../../src/bench/fingerprint.js';
import { MnkvmError } from '../../src/engine/errors.js';
import { PROJECT_ROOT } from '../../src/engine/paths.js';
import { parseTuneCheck, tuneCheck, tuneLines, TUNE_STATES, type TuneCheck, type TuneItem } from '../../src/engine/tune/check.js';
import { formatCpuList, parseCpuList } from '../../src/engine/tune/cpus.js';
import { planLatency, readCpuFacts } from '../../src/engine/tune/layout.js';
import { CLI } from '../helpers.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'tune');
const TUNED = join(FIXTURES, 'tuned-server');
const STOCK = join(FIXTURES, 'stock-vm');
const NAMES = ['isolated cores', 'nohz_full', 'rcu_nocbs', 'hugepages 2 MiB', 'hugepages 1 GiB', 'CPU governor', 'irqbalance',
  'SMT', 'THP', 'C-states', 'timer migration', 'RT throttling', 'halt polling', 'posted interrupts', 'IOMMU'];
const CPU = 'sys/devices/system/cpu';
const TUNED_CMDLINE = readFileSync(join(TUNED, 'proc/cmdline'), 'utf8').trim();

const byName = (check: TuneCheck, name: string): TuneItem => {
  const found = check.items.find((i) => i.name === name);
  if (!found) throw new Error(`no item ${name} in ${check.items.map((i) => i.name).join(', ')}`);
  return found;
};

/** Every rule an item keeps: a known state, a short finding, a fix exactly where it is not ok. */
function wellFormed(check: TuneCheck): void {
  for (const i of check.items) {
    expect(TUNE_STATES, i.name).to.include(i.state);
    expect(i.found, i.name).to.be.a('string').and.not.equal('');
    if (i.state === 'ok') expect(i.fix, i.name).to.equal(null);
    else expect(i.fix, i.name).to.be.a('string').and.not.equal('');
    expect(`${i.found}${i.fix ?? ''}`, i.name).not.to.include('\n');
  }
}

describe('mnkvm tune check (the real-time checklist)', function () {
  const copies: string[] = [];
  after(() => { for (const dir of copies) rmSync(dir, { recursive: true, force: true }); });

  /** A copy of a fixture tree with files changed (a string: its text; null: removed). */
  function variant(edits: Record<string, string | null>, base = TUNED): string {
    const root = mkdtempSync(join(tmpdir(), 'mnkvm-tune-'));
    copies.push(root);
    cpSync(base, root, { recursive: true, verbatimSymlinks: true });
    for (const [path, text] of Object.entries(edits)) {
      if (text === null) {
        rmSync(join(root, path), { recursive: true, force: true });
      } else {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), `${text}\n`);
      }
    }
    return root;
  }
  const itemOf = (name: string, edits: Record<string, string | null>, base = TUNED): TuneItem => byName(tuneCheck(variant(edits, base)), name);

  it('reads CPU lists as the kernel writes them', () => {
    expect(parseCpuList('0-2,5')).to.deep.equal([0, 1, 2, 5]);
    expect(parseCpuList('domain,managed_irq,2-3')).to.deep.equal([2, 3]);
    expect(parseCpuList('0-7:2/4')).to.deep.equal([0, 1, 4, 5]);
    expect(parseCpuList('all', [0, 1, 2])).to.deep.equal([0, 1, 2]);
    expect(parseCpuList('1-N', [0, 1, 2, 3])).to.deep.equal([1, 2, 3]);
    expect(parseCpuList('')).to.deep.equal([]);
    expect(parseCpuList('(null)')).to.deep.equal([]);
    expect(formatCpuList([5, 0, 2, 1, 7, 6])).to.equal('0-2,5-7');
    expect(formatCpuList([])).to.equal('');
  });

  it('passes every item on a server the kernel and isolation roles prepared', () => {
    const check = tuneCheck(TUNED);
    wellFormed(check);
    expect(check.where).to.equal('server1');
    expect(check.items.map((i) => i.name)).to.deep.equal(NAMES);
    expect(check.items.filter((i) => i.state !== 'ok')).to.deep.equal([]);
    expect(tuneLines(check)).to.deep.equal([
      'ok       isolated cores: 2-3 of 0-3 (isolcpus)',
      'ok       nohz_full: 2-3',
      'ok       rcu_nocbs: 2-3 (rcu_nocbs=2-3)',
      'ok       hugepages 2 MiB: 384 free of 512 (768 MiB free)',
      'ok       hugepages 1 GiB: none reserved (tune=latency uses 2 MiB pages)',
      'ok       CPU governor: performance on 0-3',
      'ok       irqbalance: running, banned from 2-3',
      'ok       SMT: off',
      'ok       THP: never',
      'ok       C-states: POLL, C1 only (intel_idle, intel_idle.max_cstate=1, processor.max_cstate=1)',
      'ok       timer migration: off',
      'ok       RT throttling: off (sched_rt_runtime_us=-1)',
      'ok       halt polling: 200000 ns',
      'ok       posted interrupts: APICv on (kvm_intel)',
      'ok       IOMMU: dmar0 (intel_iommu=on iommu=pt)',
    ]);
  });

  it('says what a stock 2-core VM lacks, each with its fix', () => {
    const check = tuneCheck(STOCK);
    wellFormed(check);
    expect(check.where).to.equal('vm');
    expect(Object.fromEntries(check.items.map((i) => [i.name, i.state]))).to.deep.equal({
      'isolated cores': 'missing', nohz_full: 'missing', rcu_nocbs: 'missing', 'hugepages 2 MiB': 'missing',
      'CPU governor': 'ok', irqbalance: 'ok', SMT: 'ok', THP: 'warn', 'C-states': 'ok', 'timer migration': 'warn', 'RT throttling': 'warn',
      'halt polling': 'missing', 'posted interrupts': 'missing', IOMMU: 'missing',
    });
    const lines = tuneLines(check);
    expect(lines).to.include('missing  hugepages 2 MiB: none reserved: reserve them (echo N > /proc/sys/vm/nr_hugepages; on a server: kernel_hugepages)');
    expect(lines).to.include('missing  isolated cores: none: isolate the measurement cores ' +
      '(isolcpus=LIST nohz_full=LIST rcu_nocbs=LIST on the kernel command line; on a server: kernel_isolated_cores)');
    // no cpufreq is a VM's way, not something missing
    expect(lines).to.include('ok       CPU governor: no cpufreq (a VM, or no frequency driver): nothing to set here');
    expect(lines).to.include('ok       C-states: POLL, haltpoll idle only (haltpoll)');
    expect(byName(check, 'nohz_full').found).to.equal('the kernel has none (no CONFIG_NO_HZ_FULL)');
    expect(byName(check, 'posted interrupts').found).to.equal('no /dev/kvm (guests run under TCG)');
  });

  it('isolated cores: none, some, or every core (none left for housekeeping)', () => {
    expect(itemOf('isolated cores', { [`${CPU}/isolated`]: '' }).state).to.equal('missing');
    const all = itemOf('isolated cores', { [`${CPU}/isolated`]: '0-3' });
    expect(all.state).to.equal('warn');
    expect(all.found).to.equal('0-3, every online core: none is left for housekeeping');
    expect(all.fix).to.match(/^leave one core out \(.*kernel_isolated_cores\)$/);
  });

  it('nohz_full: none, not on every isolated core, without isolated cores, or not in the kernel', () => {
    expect(itemOf('nohz_full', { [`${CPU}/nohz_full`]: '(null)' })).to.include({ state: 'missing', found: 'none' });
    expect(itemOf('nohz_full', { [`${CPU}/nohz_full`]: '2' })).to.include({ state: 'warn', found: '2: isolated 3 still tick' });
    expect(itemOf('nohz_full', { [`${CPU}/isolated`]: '' })).to.include({ state: 'warn', found: '2-3, but no core is isolated' });
    expect(itemOf('nohz_full', { [`${CPU}/nohz_full`]: null }).state).to.equal('missing');
  });

  it('rcu_nocbs: from the command line, or implied by nohz_full, covering the isolated cores', () => {
    const without = TUNED_CMDLINE.replace(' rcu_nocbs=2-3', '');
    expect(itemOf('rcu_nocbs', { 'proc/cmdline': without })).to.include({ state: 'ok', found: '2-3 (by nohz_full, which offloads them too)' });
    expect(itemOf('rcu_nocbs', { 'proc/cmdline': without, [`${CPU}/nohz_full`]: '' })).to.include({ state: 'missing', found: 'not on the kernel command line' });
    expect(itemOf('rcu_nocbs', { 'proc/cmdline': TUNED_CMDLINE.replace('rcu_nocbs=2-3', 'rcu_nocbs=2'), [`${CPU}/nohz_full`]: '' }))
      .to.include({ state: 'warn', found: 'rcu_nocbs=2: isolated 3 not covered' });
    expect(itemOf('rcu_nocbs', { 'proc/cmdline': TUNED_CMDLINE.replace('rcu_nocbs=2-3', 'rcu_nocbs=0'), [`${CPU}/nohz_full`]: '' }))
      .to.include({ state: 'missing', found: 'rcu_nocbs=0: covers none of isolated 2-3' });
    // what comes after a lone -- is init's, not the kernel's
    expect(itemOf('rcu_nocbs', { 'proc/cmdline': `${without} -- rcu_nocbs=2-3`, [`${CPU}/nohz_full`]: '' }).state).to.equal('missing');
  });

  it('hugepages per size: free, all in use, none reserved; the fix reserves the size that is short', () => {
    const pool = 'sys/kernel/mm/hugepages/hugepages-2048kB';
    const used = itemOf('hugepages 2 MiB', { [`${pool}/free_hugepages`]: '0' });
    expect(used).to.include({ state: 'warn', found: '0 free of 512: all in use' });
    expect(used.fix).to.equal('reserve more (echo N > /proc/sys/vm/nr_hugepages, N more than 512; on a server: kernel_hugepages)');
    expect(itemOf('hugepages 2 MiB', { [`${pool}/nr_hugepages`]: '0', [`${pool}/free_hugepages`]: '0' }).state).to.equal('missing');
    // where 1 GiB pages are the default size, /proc/sys/vm/nr_hugepages reserves those: the fix names the 2 MiB pool's own file
    const meminfo = readFileSync(join(TUNED, 'proc/meminfo'), 'utf8').replace('Hugepagesize:       2048 kB', 'Hugepagesize:    1048576 kB');
    expect(itemOf('hugepages 2 MiB', { 'proc/meminfo': meminfo, [`${pool}/nr_hugepages`]: '0' }).fix)
      .to.equal('reserve them (echo N > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages; on a server: kernel_hugepages)');
    expect(itemOf('hugepages 1 GiB', { 'sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages': '4', 'sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages': '2' }))
      .to.include({ state: 'ok', found: '2 free of 4 (tune=latency uses 2 MiB pages)' });
    const none = tuneCheck(variant({ 'sys/kernel/mm/hugepages': null }));
    expect(byName(none, 'hugepages')).to.include({ state: 'missing', found: 'the kernel has none (no CONFIG_HUGETLBFS)' });
  });

  it('CPU governor: performance, another one on some cores, or no cpufreq (a VM: said, not missing)', () => {
    const edits = { [`${CPU}/cpu0/cpufreq/scaling_governor`]: 'powersave', [`${CPU}/cpu1/cpufreq/scaling_governor`]: 'powersave' };
    const slow = itemOf('CPU governor', edits);
    expect(slow).to.include({ state: 'warn', found: 'powersave on 0-1, performance on 2-3' });
    expect(slow.fix).to.equal('set performance (cpupower frequency-set -g performance; on a server: isolation_governor)');
    const none = Object.fromEntries([0, 1, 2, 3].map((c) => [`${CPU}/cpu${c}/cpufreq`, null]));
    expect(itemOf('CPU governor', none).state).to.equal('ok');
  });

  it('irqbalance: banned from the isolated cores, left to ban them itself, not banned, or not running', () => {
    const banned = itemOf('irqbalance', { 'etc/default/irqbalance': 'IRQBALANCE_BANNED_CPULIST="2"' });
    expect(banned).to.include({ state: 'warn', found: 'running, may move interrupts onto isolated 3 (banned: 2)' });
    expect(banned.fix).to.equal('ban them (IRQBALANCE_BANNED_CPULIST=2-3 in /etc/default/irqbalance, then restart it; on a server: isolation_cores)');
    expect(itemOf('irqbalance', { 'etc/default/irqbalance': 'IRQBALANCE_BANNED_CPUS=0000000c' })).to.include({ state: 'ok', found: 'running, banned from 2-3' });
    expect(itemOf('irqbalance', { 'etc/default/irqbalance': '#IRQBALANCE_BANNED_CPULIST=' }).found).to.match(/leaves the isolated cores out itself/);
    expect(itemOf('irqbalance', { 'proc/812': null })).to.include({ state: 'ok', found: 'not running (interrupts stay where they are put)' });
  });

  it("SMT: off, on with isolated cores' siblings isolated too, or shared with a housekeeping core", () => {
    const on = { [`${CPU}/smt/active`]: '1', [`${CPU}/smt/control`]: 'on' };
    const pairs = (a: string, b: string) => ({ [`${CPU}/cpu0/topology/thread_siblings_list`]: a, [`${CPU}/cpu1/topology/thread_siblings_list`]: b,
      [`${CPU}/cpu2/topology/thread_siblings_list`]: a, [`${CPU}/cpu3/topology/thread_siblings_list`]: b });
    expect(itemOf('SMT', { ...on, ...pairs('0,2', '1,3') })).to.include({ state: 'warn', found: "on; isolated 2's sibling 0, 3's sibling 1 is not isolated" });
    const together = { ...on, [`${CPU}/cpu2/topology/thread_siblings_list`]: '2-3', [`${CPU}/cpu3/topology/thread_siblings_list`]: '2-3' };
    expect(itemOf('SMT', together).state).to.equal('ok');
    expect(itemOf('SMT', { ...on, [`${CPU}/isolated`]: '' }).state).to.equal('warn');
    // no smt/active (an older kernel): the siblings say
    expect(itemOf('SMT', { [`${CPU}/smt`]: null, ...pairs('0,2', '1,3') }).state).to.equal('warn');
  });

  it('THP: never, madvise or always', () => {
    const thp = 'sys/kernel/mm/transparent_hugepage/enabled';
    expect(itemOf('THP', { [thp]: 'always [madvise] never' })).to.include({ state: 'warn' });
    expect(itemOf('THP', { [thp]: '[always] madvise never' }).found).to.match(/^always: every process gets them/);
    expect(itemOf('THP', { [thp]: null })).to.include({ state: 'ok', found: 'the kernel has none' });
  });

  it('C-states: deep states enabled, disabled, or idle=poll', () => {
    const deep = Object.fromEntries([0, 1, 2, 3].map((c) => [`${CPU}/cpu${c}/cpuidle/state3/disable`, '0']));
    const item = itemOf('C-states', deep);
    expect(item).to.include({ state: 'warn', found: 'deep states enabled: C6 (133 µs) on 0-3 (intel_idle, intel_idle.max_cstate=1, processor.max_cstate=1)' });
    expect(item.fix).to.match(/cpupower idle-set -D 3.*on a server: kernel_extra_params/);
    expect(itemOf('C-states', { ...deep, 'proc/cmdline': `${TUNED_CMDLINE} idle=poll` })).to.include({ state: 'ok', found: 'idle=poll (idle cores spin)' });
  });

  it('timer migration, halt polling, posted interrupts and the IOMMU, each way', () => {
    expect(itemOf('timer migration', { 'proc/sys/kernel/timer_migration': '1' }).fix).to.match(/sysctl kernel.timer_migration=0; on a server: isolation_sysctl/);
    expect(itemOf('halt polling', { 'sys/module/kvm/parameters/halt_poll_ns': '0' })).to.include({ state: 'warn', found: 'off (0 ns): a halted vCPU wakes through the scheduler' });
    expect(itemOf('halt polling', { 'sys/module/kvm': null }).state).to.equal('missing');
    expect(itemOf('posted interrupts', { 'sys/module/kvm_intel/parameters/enable_apicv': 'N' }).state).to.equal('warn');
    const amd = { 'sys/module/kvm_intel': null, 'sys/module/kvm_amd/parameters/avic': '1' };
    expect(itemOf('posted interrupts', amd)).to.include({ state: 'ok', found: 'AVIC on (kvm_amd)' });
    expect(itemOf('posted interrupts', { ...amd, 'sys/module/kvm_amd/parameters/avic': '0' }).fix).to.match(/kvm_amd.avic=1/);
    expect(itemOf('posted interrupts', { 'sys/module/kvm_intel': null, 'sys/module/kvm_pvm/parameters/verbose': 'N' }).found)
      .to.equal('/dev/kvm, but neither kvm_intel nor kvm_amd (kvm_pvm): no APICv or AVIC to check');
    expect(itemOf('posted interrupts', { 'dev/kvm': null }).state).to.equal('missing');
    const off = itemOf('IOMMU', { 'sys/class/iommu': null });
    expect(off).to.include({ state: 'missing', found: 'none (intel_iommu=on iommu=pt): VFs cannot be passed through' });
    expect(off.fix).to.match(/on a server: kernel_iommu\)$/);
  });

  it("names only Ansible variables the kernel and isolation roles have", () => {
    const defaults = ['kernel', 'isolation'].map((role) => readFileSync(join(PROJECT_ROOT, 'ansible/roles', role, 'defaults/main.yml'), 'utf8')).join('\n');
    const known = new Set([...defaults.matchAll(/^(\w+):/gm)].map((m) => m[1]));
    const all = [TUNED, STOCK, variant({ [`${CPU}/isolated`]: '0-3', 'sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages': '0',
      'etc/default/irqbalance': 'IRQBALANCE_BANNED_CPULIST=2', [`${CPU}/cpu0/cpufreq/scaling_governor`]: 'ondemand', [`${CPU}/smt/active`]: '1',
      [`${CPU}/cpu2/topology/thread_siblings_list`]: '0,2', 'sys/kernel/mm/transparent_hugepage/enabled': '[always] madvise never',
      [`${CPU}/cpu0/cpuidle/state3/disable`]: '0', 'sys/module/kvm/parameters/halt_poll_ns': '0', 'sys/module/kvm_intel/parameters/enable_apicv': 'N' })]
      .flatMap((root) => tuneCheck(root).items);
    const named = all.flatMap((i) => [...(i.fix ?? '').matchAll(/on a server: (?:raise )?(\w+)/g)].map((m) => m[1]));
    expect(named).to.include.members(['kernel_isolated_cores', 'kernel_hugepages', 'kernel_iommu', 'kernel_extra_params', 'isolation_cores',
      'isolation_governor', 'isolation_sysctl']);
    expect(named.filter((v) => !known.has(v))).to.deep.equal([]);
  });

  it('prints JSON that reads back as the checklist, and refuses what is none in one line', () => {
    const check = tuneCheck(STOCK);
    const json = JSON.parse(JSON.stringify(check)) as Record<string, unknown>;
    expect(Object.keys(json)).to.deep.equal(['where', 'items']);
    for (const i of json.items as Record<string, unknown>[]) expect(Object.keys(i)).to.deep.equal(['name', 'state', 'found', 'fix']);
    expect(parseTuneCheck(JSON.stringify(check))).to.deep.equal(check);
    for (const text of ['', 'mnkvm: unknown command', '{"where":"x","items":[{"name":"a","state":"bad","found":"","fix":null}]}']) {
      expect(() => parseTuneCheck(text)).to.throw(MnkvmError, /^not a tune checklist \(/);
    }
  });

  it('gives a tuned host its layout from what the checklist reads (the tuned server\'s fixture tree)', () => {
    const facts = readCpuFacts(TUNED);
    expect(facts).to.deep.include({ isolated: [2, 3], hugepagesFree: 384, hugepagesTotal: 512 });
    expect(planLatency({ name: 'h1', cpus: 3, mem: 256, cores: null }, facts, () => null).layout)
      .to.deep.equal({ dedicated: [2, 3], housekeeping: [0, 1], fifo: true, hugepages: 128 });
    expect(() => planLatency({ name: 'h1', cpus: 2, mem: 256, cores: null }, readCpuFacts(STOCK), () => null)).to.throw(MnkvmError, /no isolated core/);
  });

  it("--servers: each server's lines under its name, one line for a server without a checklist", () => {
    const json = JSON.stringify(tuneCheck(TUNED));
    const tb1 = serverTuneCheck('tb1', { stdout: json, stderr: '', code: 0 });
    expect(tb1.where).to.equal('tb1');
    expect(() => serverTuneCheck('tb2', { stdout: '', stderr: "mnkvm: error: unknown command 'tune'\n", code: 1 })).to.throw(MnkvmError,
      "tb2: `mnkvm tune check --json` failed there (mnkvm: error: unknown command 'tune'): update mnkvm there (ansible-playbook -i INVENTORY site.yml)");
    expect(() => serverTuneCheck('tb2', { stdout: 'sh: 1: mnkvm: not found', stderr: '', code: 0 })).to.throw(MnkvmError,
      /^tb2: `mnkvm tune check --json` answered not a tune checklist \(sh: 1: mnkvm: not found\): update mnkvm there/);
    const checks: ServerTuneCheck[] = [tb1, { where: 'root@10.0.0.9', error: 'root@10.0.0.9: cannot reach it over SSH (...)' }];
    const lines = serverLines(checks);
    expect(lines[0]).to.equal('tb1:');
    expect(lines[1]).to.equal('  ok       isolated cores: 2-3 of 0-3 (isolcpus)');
    expect(lines.slice(1, -1)).to.have.length(NAMES.length);
    expect(lines.at(-1)).to.equal('root@10.0.0.9: cannot reach it over SSH (...)');
  });

  it('reads this machine: every item, no throw, exit 0 with items missing', () => {
    const check = tuneCheck();
    wellFormed(check);
    for (const name of NAMES.filter((n) => !n.startsWith('hugepages'))) byName(check, name);
    const human = spawnSync(process.execPath, [CLI, 'tune', 'check'], { encoding: 'utf8', timeout: 30_000 });
    expect(human.status, human.stderr).to.equal(0);
    expect(human.stdout.trim().split('\n')).to.have.length(check.items.length);
    const json = spawnSync(process.execPath, [CLI, 'tune', 'check', '--json'], { encoding: 'utf8', timeout: 30_000 });
    expect(json.status, json.stderr).to.equal(0);
    expect(parseTuneCheck(json.stdout).items.map((i) => i.name)).to.deep.equal(check.items.map((i) => i.name));
  });

  it("is in the bench's fingerprint", () => {
    const { tune } = fingerprint('tcg');
    expect(tune.items.map((i) => i.name)).to.deep.equal(tuneCheck().items.map((i) => i.name));
  });
});
