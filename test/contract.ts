// The contract every VM backend passes (src/engine/backend.ts), driven
// through the engine's calls as KVMHost makes them, in a real network
// namespace with real veths and tunnel ends: the fake backend in
// milliseconds (test/unit/backend.test.ts), QEMU with real guests
// (test/backend.test.ts). A later backend (libvirt) runs the same.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { Engine, type BackendFactory } from '../src/engine/engine.js';
import { MAX_NICS } from '../src/engine/guest/contract.js';
import type { KvmHostOptions } from '../src/engine/options.js';
import type { EngineProgress } from '../src/engine/progress.js';
import { killIfSame, processId, run, runOk, startTime, waitGone, type ProcessId } from '../src/engine/proc.js';
import { RunRecord } from '../src/engine/records.js';
import type { SweepReport } from '../src/engine/sweep.js';

const NOTHING: SweepReport = { vms: 0, shells: 0, processes: 0, intfs: 0, bridges: 0, cgroups: 0, rules: 0, files: 0, devices: 0 };

/** A network namespace of its own (a sleeping process holds it), as a KVMHost's is. */
export class TestNamespace {
  private constructor(readonly proc: ProcessId) {}

  get pid(): number { return this.proc.pid; }

  static async open(record: RunRecord): Promise<TestNamespace> {
    const child = spawn('unshare', ['-n', 'sleep', '300'], { detached: true, stdio: 'ignore' });
    child.unref();
    const proc = processId(child.pid!);
    record.add({ kind: 'process', name: 'test-namespace', proc });
    // unshare makes the namespace, then execs sleep: wait for the first
    const deadline = Date.now() + 5000;
    while (readlinkSync(`/proc/${proc.pid}/ns/net`) === readlinkSync('/proc/self/ns/net')) {
      if (Date.now() > deadline) throw new Error('unshare -n made no namespace');
      await new Promise((r) => setTimeout(r, 5));
    }
    return new TestNamespace(proc);
  }

  /** A veth pair in the namespace: name (a link's end, as Mininet makes it) and namep. */
  async veth(name: string): Promise<void> {
    await runOk('nsenter', ['-t', String(this.pid), '-n', 'ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
  }

  /** `ip -d link show name` in the namespace ('' if there is no such link). */
  link(name: string): Promise<string> {
    return this.run('ip', '-d', 'link', 'show', 'dev', name);
  }

  /** A command's output in the namespace ('' if it failed). */
  async run(...argv: string[]): Promise<string> {
    return (await run('nsenter', ['-t', String(this.pid), '-n', ...argv])).stdout;
  }

  async close(): Promise<void> {
    killIfSame(this.proc, 'SIGKILL');
    await waitGone(this.proc, 3000);
  }
}

function connectable(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(() => expect.fail('no error'), (e: Error) => e);
}

/**
 * The contract: label names the backend; options are the KVM host options
 * its guests get (kvmHostOptions(...)).
 */
export function backendContract(label: string, makeBackend: BackendFactory, options: () => KvmHostOptions): void {
  describe(`VM backend contract: ${label}`, function () {
    this.timeout(120_000);
    let engine: Engine;
    let ns: TestNamespace;

    beforeEach(async () => {
      engine = new Engine(RunRecord.create(), makeBackend);
      ns = await TestNamespace.open(engine.record);
    });

    afterEach(async () => {
      engine.stopVm({ name: 'h1' });   // as KVMHost.terminate does
      await engine.settle();
      await ns.close();
      // the backend removed what it made: the record's sweep finds nothing
      expect(await engine.shutdown(), 'left behind').to.deep.equal(NOTHING);
    });

    it('starts a guest that answers on its console, and stops it leaving nothing', async () => {
      const progress: EngineProgress[] = [];
      engine.onProgress = (e) => progress.push(e);
      expect(engine.startVm({ name: 'h1', nsPid: ns.pid, options: options() })).to.be.an('array');
      const vm = await engine.vmReady({ name: 'h1' });
      // (hosts booting N of M, as the TypeScript API's progress events have it; a template made first, maybe)
      expect(progress.filter((e) => e.kind === 'hostBooting' || e.kind === 'hostBooted').map((e) => [e.kind, e.host, e.hosts]))
        .to.deep.equal([['hostBooting', 'h1', 1], ['hostBooted', 'h1', 1]]);
      expect(await connectable(vm.console), 'console').to.equal(true);
      expect(vm.restored).to.equal(options().boot === 'clone');
      expect(vm.ssh.target).to.match(/^root@/);
      engine.stopVm({ name: 'h1' });
      await engine.settle();
      expect(existsSync(vm.console), 'console after stop').to.equal(false);
      if (vm.pid !== null) expect(startTime(vm.pid), 'its process after stop').to.equal(null);
    });

    it('refuses a second guest of the same name, in one line', async () => {
      engine.startVm({ name: 'h1', nsPid: ns.pid, options: options() });
      expect(() => engine.startVm({ name: 'h1', nsPid: ns.pid, options: options() })).to.throw('a KVM host named h1 already exists');
      await engine.vmReady({ name: 'h1' });
    });

    it('wires a veth end and a tunnel end to NICs, and unplugs them', async () => {
      engine.startVm({ name: 'h1', nsPid: ns.pid, options: options() });
      await ns.veth('h1-eth0');
      engine.attachNic({ name: 'h1', nic: { kind: 'tap', intf: 'h1-eth0' } });
      engine.attachNic({ name: 'h1', nic: { kind: 'tunnel', intf: 'h1-eth1', vni: 4242, local: '127.0.0.1', remote: '127.0.0.1', port: 48801, remotePort: 48802 } });
      await engine.vmReady({ name: 'h1' });
      expect(await ns.link('h1-eth1')).to.match(/vxlan id 4242 local 127\.0\.0\.1 .*dstport 48801/);
      expect(await ns.run('bridge', 'fdb', 'show', 'dev', 'h1-eth1')).to.match(/^00:00:00:00:00:00 dst 127\.0\.0\.1 port 48802 /m);
      engine.detachNic({ name: 'h1', intf: 'h1-eth1' });
      engine.detachNic({ name: 'h1', intf: 'h1-eth0' });
      await engine.vmReady({ name: 'h1' });
      expect(await ns.link('h1-eth1'), 'tunnel end after detach').to.equal('');
      engine.attachNic({ name: 'h1', nic: { kind: 'tap', intf: 'h1-eth0' } });   // again, after its unplug
      await engine.vmReady({ name: 'h1' });
    });

    it('reports a NIC that cannot be wired at the next vmReady, once, in one line, and goes on', async () => {
      engine.startVm({ name: 'h1', nsPid: ns.pid, options: options() });
      engine.attachNic({ name: 'h1', nic: { kind: 'tap', intf: 'h1-eth9' } });
      expect((await rejection(engine.vmReady({ name: 'h1' }))).message).to.equal('h1: no interface h1-eth9 with a MAC address in its namespace');
      engine.attachNic({ name: 'h1', nic: { kind: 'vf', intf: 'h1-eth1', pci: '0000:ff:1f.7', mac: '02:00:00:00:00:01' } });
      expect((await rejection(engine.vmReady({ name: 'h1' }))).message).to.match(/^VF 0000:ff:1f\.7: no such PCI device on this machine: /);
      await ns.veth('h1-eth0');
      engine.attachNic({ name: 'h1', nic: { kind: 'tap', intf: 'h1-eth0' } });
      await engine.vmReady({ name: 'h1' });
    });

    it(`gives a guest at most ${MAX_NICS} NICs`, async () => {
      engine.startVm({ name: 'h1', nsPid: ns.pid, options: options() });
      for (let i = 0; i <= MAX_NICS; i++) {
        await ns.veth(`h1-eth${i}`);
        engine.attachNic({ name: 'h1', nic: { kind: 'tap', intf: `h1-eth${i}` } });
      }
      expect((await rejection(engine.vmReady({ name: 'h1' }))).message)
        .to.equal(`h1: no free PCIe slot for h1-eth${MAX_NICS}: a KVM host has at most ${MAX_NICS} links`);
    });

    it('pins a guest to cores, and refuses cores the machine lacks', async () => {
      engine.startVm({ name: 'h1', nsPid: ns.pid, options: options() });
      const vm = await engine.vmReady({ name: 'h1' });
      await engine.pinVm({ name: 'h1', cores: [0] });
      if (vm.pid !== null) expect(await runOk('taskset', ['-c', '-p', String(vm.pid)])).to.match(/affinity list: 0$/m);
      expect((await rejection(engine.pinVm({ name: 'h1', cores: [999] }))).message).to.match(/^h1: cannot pin to cores 999: use cores between 0 and \d+$/);
    });
  });
}
