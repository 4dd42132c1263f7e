// The virtual SR-IOV testbed: real servers (Debian 12 VMs with emulated
// igb SR-IOV NICs and an IOMMU) brought up, used over SSH and taken down.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kindLabel, type BenchReport, type LatencyRun, type LatencySummary } from '../src/bench/results.js';
import { PROJECT_ROOT } from '../src/engine/paths.js';
import { tuneLines, type TuneCheck } from '../src/engine/tune/check.js';
import { FRESH_HOST_KEY, sshArgs } from '../src/engine/ssh.js';
import { expectClean, mnkvm } from './helpers.js';
import { bound, speedFactor } from './speed.js';
import { ANSIBLE, ansiblePlaybook, playbook } from './ansible.js';
import { cleanAcrossServers, nestedBootTimeout, spreadOverServers } from './servers.js';

const UP = 20 * 60_000;   // TCG boots of Debian: minutes on 2 cores

describe('mnkvm testbed', function () {
  this.timeout(UP);
  afterEach(expectClean);

  it("ansible/ passes ansible-lint's production profile", () => {
    const r = spawnSync('ansible-lint', ['--profile', 'production', '--nocolor'], { cwd: ANSIBLE, encoding: 'utf8', timeout: bound(300_000) });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  it('refuses bad input in one line, leaving nothing', async () => {
    let r = await mnkvm(['testbed', 'up', '--servers', '0']);
    expect(r.code).to.equal(1);
    expect(r.err).to.equal('mnkvm: testbed --servers 0: must be a whole number from 1 to 8\n');
    r = await mnkvm(['testbed', 'up', '--servers', '8', '--mem', '65536']);
    expect(r.err).to.match(/^mnkvm: not enough memory for 8 testbed servers of 65536 MiB: they need 525312 MiB with 1024 to spare, \d+ MiB are available: use fewer --servers or less --mem\n$/);
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(47222, '127.0.0.1', resolve));
    try {
      r = await mnkvm(['testbed', 'up', '--servers', '1', '--ssh-port', '47222']);
      expect(r.err).to.equal("mnkvm: port 47222 on 127.0.0.1 is taken (tb1's SSH): pass --ssh-port with a free range\n");
    } finally {
      taken.close();
    }
    for (const cmd of ['status', 'inventory', 'down']) {
      r = await mnkvm(['testbed', cmd]);
      expect(r.err, cmd).to.match(/^mnkvm: no virtual testbed is up: /);
    }
  });

  it('refuses a second testbed started at the same time in one line, and mnkvm -c takes a testbed down', async () => {
    const [a, b] = await Promise.all([1, 2].map(() => mnkvm(['testbed', 'up', '--servers', '1'], { timeoutMs: UP })));
    expect([a.code, b.code].sort(), a.err + b.err).to.deep.equal([0, 1]);
    expect((a.code === 1 ? a : b).err).to.match(/^mnkvm: a virtual testbed is already (up|coming up) \(`mnkvm testbed status` shows it\): take it down first with `mnkvm testbed down`\n$/);
    const r = await mnkvm(['-c']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out + r.err).to.match(/run-testbed: 1 VM, 1 file/);
  });

  it('names a server that does not boot in time, with its last console lines, and removes it', async () => {
    const r = await mnkvm(['testbed', 'up', '--servers', '1', '--boot-timeout', '3'], { timeoutMs: UP });
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^mnkvm: tb1 did not answer SSH within 3 s: raise --boot-timeout; last console lines:\n/m);
  });

  it('brings two servers up, prepares them with ansible/ (twice: nothing changes the second time), verifies them after a reboot, runs KVM hosts with KVM and SR-IOV links there, spreads networks over both, and takes them down', async function () {
    // (one testbed for all of it: Ansible, KVM and SR-IOV on a server, networks over both: 28 to 42 minutes under TCG)
    this.timeout(bound(40 * 60_000));
    const start = Date.now();
    let r = await mnkvm(['testbed', 'up', '--servers', '2'], { timeoutMs: UP });
    expect(r.code, r.err).to.equal(0);
    console.log(`      (testbed up --servers 2: ${((Date.now() - start) / 1000).toFixed(0)} s to SSH on both, TCG)`);
    const dir = mkdtempSync(join(tmpdir(), 'mnkvm-testbed-'));
    try {
      r = await mnkvm(['testbed', 'up', '--servers', '1']);
      expect(r.err).to.match(/^mnkvm: a virtual testbed is already up/);
      r = await mnkvm(['testbed', 'status']);
      expect(r.out).to.match(/^tb1 {2}running {2}ssh 127\.0\.0\.1:2221 {2}PFs 0000:01:00\.0/m);
      expect(r.out).to.match(/^tb2 {2}running {2}ssh 127\.0\.0\.1:2222 /m);
      // each server: its name, the PF (igb, 82576) with its SR-IOV capability, this checkout shared
      for (const name of ['tb1', 'tb2']) {
        r = await mnkvm(['testbed', 'ssh', name, '--', `hostname; cat /sys/bus/pci/devices/0000:01:00.0/{vendor,device,sriov_totalvfs}; test -f ${PROJECT_ROOT}package.json && echo shared`]);
        expect(r.code, r.err).to.equal(0);
        expect(r.out.trim().split('\n')).to.deep.equal([name, '0x8086', '0x10c9', '7', 'shared']);
      }
      // not prepared yet: a network over them stops at preflight, in one line naming the server
      r = await mnkvm(['--servers', 'tb1,tb2', '--topo', 'linear,2']);
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/^mnkvm: tb[12]: mnkvm is not installed there: prepare the server with ansible\/ \(ansible-playbook -i INVENTORY site\.yml\)\n$/);
      r = await mnkvm(['testbed', 'inventory']);
      expect(r.out).to.contain(`tb1 ansible_host=127.0.0.1 ansible_port=2221 sriov_pfs='[{"pci":"0000:01:00.0","vfs":7}]' kernel_iommu=intel kernel_isolated_cores='[1]' kernel_hugepages=128\n`);
      const inventory = join(dir, 'testbed.ini');
      writeFileSync(inventory, r.out);

      // a description of the servers naming a PF they do not have: the sriov role stops in one line
      writeFileSync(join(dir, 'servers.yaml'), [
        'key: /run/mnkvm/run-testbed/id_ed25519', 'servers:',
        '  - { name: tb1, address: 127.0.0.1, port: 2221, pfs: [ { pci: "0000:05:00.0", vfs: 2 } ] }', '',
      ].join('\n'));
      r = await mnkvm(['testbed', 'inventory', '--from', join(dir, 'servers.yaml')]);
      expect(r.code, r.err).to.equal(0);
      writeFileSync(join(dir, 'servers.ini'), r.out);
      const wrong = ansiblePlaybook(join(dir, 'servers.ini'), 'site.yml', '--tags', 'sriov',
        '-e', `ansible_ssh_common_args='${sshArgs(FRESH_HOST_KEY).join(' ')}'`);
      expect(wrong.status).to.not.equal(0);
      expect(wrong.stdout).to.contain('0000:05:00.0 is no SR-IOV physical function on tb1: fix sriov_pfs (lspci -D lists the PCI addresses)');

      let t = Date.now();
      const first = playbook(inventory, 'site.yml');
      console.log(`      (ansible-playbook site.yml, first run, 2 servers: ${((Date.now() - t) / 1000).toFixed(0)} s, TCG)`);
      for (const host of ['tb1', 'tb2']) expect(first[host], host).to.include({ failed: 0, unreachable: 0 }).and.to.have.property('changed').above(0);
      // the first run rebooted for the new kernel command line (the kernel role's handler), and its
      // verify play ran after that reboot: VFs, drivers and the command line hold after a reboot
      // (verify.yml -e verify_reboot=true, a reboot of its own: npm run test:scale)
      expect(first.output, 'the first run reboots').to.match(/RUNNING HANDLER \[kernel : Reboot for the new kernel command line\][^\n]*\n(?:[^\n]*\n)?changed: \[tb1\]/);
      expect(first.output.indexOf('PLAY [Verify testbed servers]')).to.be.above(first.output.indexOf('RUNNING HANDLER [kernel : Reboot'));
      t = Date.now();
      const second = playbook(inventory, 'site.yml');
      console.log(`      (ansible-playbook site.yml, second run: ${((Date.now() - t) / 1000).toFixed(0)} s)`);
      for (const host of ['tb1', 'tb2']) expect(second[host], host).to.include({ failed: 0, unreachable: 0, changed: 0 });
      for (const host of ['tb1', 'tb2']) {
        const facts = JSON.parse(readFileSync(join(dir, 'facts', `${host}.json`), 'utf8')) as
          { hostname: string; cmdline: string[]; iommuGroups: number; pfs: { numVfs: number; vfs: { driver: string; aloneInIommuGroup: boolean }[] }[] };
        expect(facts.hostname).to.equal(host);
        expect(facts.cmdline).to.include.members(['intel_iommu=on', 'iommu=pt', 'isolcpus=1', 'hugepages=128']);
        expect(facts.pfs[0].numVfs).to.equal(7);
        expect(facts.pfs[0].vfs.map((v) => [v.driver, v.aloneInIommuGroup])).to.deep.equal(Array(7).fill(['vfio-pci', true]));
      }

      // the KVM path: mnkvm (installed by the mnkvm role) runs KVM hosts with KVM inside a server, a
      // snapshot clone and a cold boot (test/scripts/boot_kinds.py); and SR-IOV links on the hardware
      // path: igb VFs (bound to vfio-pci by the sriov role, pf=auto from the verify play's facts) passed
      // through into KVM hosts run with KVM (test/scripts/sriov_hardware.sh, in two parts, one per
      // server, at once: each mostly waits on one nested guest; SPEED: its own bounds' factor)
      // (guests boot nested there: mnkvm's bootTimeout scaled by the speed factor, as every bound here)
      const nested = `MNKVM_ACCEL=kvm MNKVM_BOOT_TIMEOUT=${nestedBootTimeout()}`;
      const hardware = (part: string) => `${nested} SPEED=${Math.ceil(speedFactor())} bash ${PROJECT_ROOT}test/scripts/sriov_hardware.sh ${part}`;
      const on = async (server: string, command: string, what: string) => {
        const started = Date.now();
        const done = await mnkvm(['testbed', 'ssh', server, '--', command], { timeoutMs: 30 * 60_000 });
        console.log(`      (on ${server}: ${what}: ${((Date.now() - started) / 1000).toFixed(0)} s, KVM inside TCG)`);
        return done;
      };
      t = Date.now();
      const [[links, tuned, check], [twoRuns, kinds, bench]] = await Promise.all([
        (async () => [await on('tb1', hardware('links'), 'SR-IOV links, igb VFs'),
          // tune=latency with KVM: vCPU 1 on the isolated core (the kernel role's), SCHED_FIFO, SR-IOV links;
          // the server's real-time checklist
          await on('tb1', `${nested} TUNED_CORES=auto TUNED_LINK=sriov mnkvm run ${PROJECT_ROOT}test/scripts/tuned.py`, 'a tuned KVM host, SR-IOV links'),
          await on('tb1', 'mnkvm tune check --json', 'mnkvm tune check')])(),
        (async () => [await on('tb2', hardware('two-runs'), 'SR-IOV links of two runs at once'),
          await on('tb2', `${nested} mnkvm run ${PROJECT_ROOT}test/scripts/boot_kinds.py`, 'a clone and a cold boot, pingall'),
          // a tuned host's figures beside an untuned one's (nested: not judged)
          await on('tb2', `${nested} mnkvm bench latency --kinds kvm,kvm:tune=latency:cpus=2 --repeat 1 --rate 200 --duration 2 --json`,
            'mnkvm bench latency, a tuned KVM host beside an untuned one')])(),
      ]);
      console.log(`      (the KVM path and SR-IOV links on both servers at once: ${((Date.now() - t) / 1000).toFixed(0)} s)`);
      expect(kinds.code, kinds.out + kinds.err).to.equal(0);
      expect(kinds.out + kinds.err).to.contain('*** Results: 0% dropped (2/2 received)');
      expect(kinds.out + kinds.err).not.to.match(/TCG/);
      expect(tuned.code, tuned.out + tuned.err).to.equal(0);
      expect(tuned.err).to.contain('*** h1: tune=latency: vCPU 1 on core 1, vCPU 0 and QEMU on 0, 128 hugepages of 2 MiB');
      const tune = JSON.parse(/^TUNED (.*)$/m.exec(tuned.out)?.[1] ?? 'null') as
        { loss: number; threads: Record<string, string[]>; hugepagesFree: number; vfIrqs: string[]; guest: Record<string, string> };
      expect(tune.loss, tuned.out).to.equal(0);
      // KVM: vCPU 1 alone on the isolated core (SCHED_OTHER: the server keeps RT throttling on, and one line
      // says so); vCPU 0 and QEMU's other threads on core 0
      expect(tune.threads['CPU 1/KVM'], JSON.stringify(tune.threads)).to.deep.equal(['1 other']);
      expect(tuned.err).to.match(/^\*\*\* h1: its vCPU threads stay SCHED_OTHER: RT throttling is on \(kernel\.sched_rt_runtime_us=950000\)/m);
      expect([...new Set(Object.entries(tune.threads).filter(([name]) => name !== 'CPU 1/KVM').flatMap(([, c]) => c))]).to.deep.equal(['0 other']);
      expect(tune.hugepagesFree).to.equal(0);
      // the VF's host interrupts on the housekeeping core; the guest's vCPU 1 isolated
      expect(tune.vfIrqs.length, tuned.out).to.be.above(0);
      expect([...new Set(tune.vfIrqs)]).to.deep.equal(['0']);
      expect(tune.guest.nohzFull).to.equal('1');
      // what a testbed server can have: isolated, tickless core 1 without RCU callbacks, hugepages, an IOMMU
      // (SMT, the governor, C-states, posted interrupts: a nested VM has none to set)
      expect(check.code, check.err).to.equal(0);
      const checklist = JSON.parse(check.out) as TuneCheck;
      for (const line of tuneLines(checklist)) console.log(`      (tb1: ${line})`);
      const items = Object.fromEntries(checklist.items.map((i) => [i.name, i]));
      for (const name of ['isolated cores', 'nohz_full', 'rcu_nocbs', 'hugepages 2 MiB', 'IOMMU']) expect(items[name]?.state, JSON.stringify(items[name])).to.equal('ok');
      expect(items['isolated cores']!.found).to.match(/^1 of 0-1/);
      expect(bench.code, bench.err).to.equal(0);
      const latency = JSON.parse(bench.out) as BenchReport<LatencyRun, LatencySummary>;
      expect(latency.results.map((x) => [x.kind, x.options ?? null])).to.deep.equal([['kvm', null], ['kvm', { tune: 'latency', cpus: 2 }]]);
      expect(latency.environment.tune.items.find((i) => i.name === 'isolated cores')?.state).to.equal('ok');
      for (const x of latency.results) {
        console.log(`      (bench latency on tb2, ${kindLabel(x)}, nested virtual testbed: RTT p50 ${x.percentilesUs.p50?.median} µs, p99 ${x.percentilesUs.p99?.median} µs; timer p99 ${x.timerUs?.p99?.median} µs)`);
        expect(x.samples, kindLabel(x)).to.be.above(0);
      }
      r = { ...links, out: links.out + twoRuns.out, err: links.err + twoRuns.err };
      for (const l of r.out.split('\n').filter((line) => line.startsWith('TOOK '))) console.log(`      (${l})`);
      const marks = r.out.split('\n').filter((l) => /^[A-Z]+ /.test(l));
      // (what a switch's PF-side port carries, linear,2 and the veth host of sriov_runtime.py, do not work in
      // QEMU's igb, which loops a frame back to the pool that sent it too (docs/sriov.md, "What a link means"): the script
      // prints them)
      expect(marks, r.out + r.err).to.include.members([
        'PINGALL single,3 Results: 0% dropped', 'HARDWARE single,3', 'HARDWARE linear,2',
        'VFS pingall restored', 'DELETED 0', 'VFS scripts restored', 'VFS bad restored', 'FIRST RUNNING',
        'PING h1 h2 2', 'PING h3 h4 2', 'PING h1 h3 0', 'PING h1 h4 0', 'PING h4 h2 0', 'VFS sigkill restored',
      ]);
      // (sriov_vlans.py ran beside the first run, whose switch has a VLAN of its own: a VLAN per link, none shared)
      const vlans = /^VLANS (\d+) (\d+)$/m.exec(r.out);
      expect(vlans, r.out).to.not.equal(null);
      expect(vlans![1], r.out).to.not.equal(vlans![2]);
      // bad input: one line each
      const bad = (what: string) => marks.find((l) => l.startsWith(`BAD ${what} `)) ?? `BAD ${what} missing`;
      expect(bad('nopf'), r.out).to.match(/^BAD nopf 1 mnkvm: SR-IOV link: no network interface nosuch0 on this machine: name a PF/);
      expect(bad('nosriov'), r.out).to.match(/^BAD nosriov 1 mnkvm: SR-IOV link: \w+ is not an SR-IOV physical function \(no sriov_totalvfs\): name a PF/);
      expect(bad('novf'), r.out).to.match(/^BAD novf 1 mnkvm: PF \w+: no free VF \(1 in range, 0 held by other mnkvm runs, the rest by this one\)/);
      expect(bad('knob'), r.out).to.match(/^BAD knob 1 mnkvm: PF \w+ \(igb\): VF \d+: rate 100000 refused \(.*\): give a rate \(Mbit\/s\) the PF takes/);
      expect(marks.find((l) => l.startsWith('ADDED ')), r.out).to.match(/^ADDED \(SR-IOV: PF \w+, VLAN 300\) 2 packets transmitted, 2 received/);
      expect(marks.filter((l) => l.startsWith('INUSE ')), r.out).to.have.length(1);
      expect(marks.find((l) => l.startsWith('INUSE ')), r.out).to.match(/^INUSE mnkvm: PF \w+: no free VF \(1 in range, 1 held by other mnkvm runs/);
      expect(marks.filter((l) => l.startsWith('LEFT ') || l.includes('CHANGED')), r.out).to.deep.equal([]);

      // a network over both servers (test/servers.ts); the last step, mnkvm -c, takes the testbed down
      await spreadOverServers((line) => console.log(`      (${line})`));
      await cleanAcrossServers();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await mnkvm(['testbed', 'down']);   // (where a failure left it up)
    }
  });
});
