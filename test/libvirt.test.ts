// backend=libvirt: the backend contract (test/contract.ts) against this
// machine's libvirtd, with real domains, and Mininet networks whose KVM
// hosts are libvirt domains (virsh list shows them while they run).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LibvirtBackend } from '../src/engine/libvirt/backend.js';
import { LocalMachine } from '../src/engine/machine.js';
import { kvmHostOptions } from '../src/engine/options.js';
import { backendContract } from './contract.js';
import { expectClean, Mnkvm, mnkvm, SCRIPTS, TEST_ENV } from './helpers.js';

const URI = 'qemu:///system';
const LIBVIRT = 'kvm,backend=libvirt';
const NO_OF = ['--switch', 'lxbr', '--controller', 'none'];

backendContract('libvirt', (record, notice) => new LibvirtBackend(URI, new LocalMachine(record), record, notice),
  () => kvmHostOptions({ accel: TEST_ENV.MNKVM_ACCEL, share: 'none', backend: 'libvirt', boot: 'cold' }));

/** The running domains libvirtd has of mnkvm's. */
function domains(): string[] {
  return spawnSync('virsh', ['-q', '-c', URI, 'list', '--name'], { encoding: 'utf8' }).stdout.split('\n').filter((d) => d.startsWith('mnkvm-'));
}

describe('mnkvm --host kvm,backend=libvirt', function () {
  afterEach(expectClean);

  it('runs single,2 with pingall, its hosts libvirt domains that boot cold (said once)', async () => {
    const r = await mnkvm(['--topo', 'single,2', '--host', LIBVIRT, ...NO_OF, '--test', 'pingall']);
    const all = r.out + r.err;
    expect(r.code, all).to.equal(0);
    expect(all).to.contain('*** Results: 0% dropped (2/2 received)');
    expect(all.match(/backend=libvirt: KVM hosts boot cold/g), all).to.have.length(1);
  });

  it('keeps cmd(), sendCmd(), background jobs, popen() and pexec() faithful on libvirt domains', async () => {
    const r = await mnkvm(['run', join(SCRIPTS, 'cmd_fidelity.py'), '--', 'backend=libvirt']);
    expect(r.code, r.out + r.err).to.equal(0);
    const result = JSON.parse(r.out.split('\n').find((l) => l.startsWith('RESULT '))!.slice(7)) as Record<string, unknown>;
    expect(result.multiline).to.equal('a\r\nb\r\nc\r\n');
    expect(result.bigLen).to.equal(1_000_000);
    expect(result.sendCmdOutput).to.equal('done\r\n');
    expect(result.bgAlive).to.equal('alive\r\n');
    expect(result.hostname).to.match(/^h1\r\n/);
    expect(result.ping).to.match(/1 packets transmitted, 1 received, 0% packet loss/);
    expect(result.popen).to.deep.equal(['out\n', 'err\n', 3]);
    expect(result.pexec).to.deep.equal(['a b\n', '', 0]);
    expect(result.macInGuest).to.equal('00:00:00:00:0a:01\r\n');
  });

  it('lists its domains in virsh while the network runs; SIGKILL of mnkvm leaves none (the run\'s guard sweeps)', async () => {
    const run = new Mnkvm(['--topo', 'single,2', '--host', LIBVIRT, ...NO_OF]);
    await run.waitFor(/mininet> $/, { stdoutOnly: true });
    run.child.stdin!.write('pingall\n');
    await run.waitFor(/Results: 0% dropped/);
    expect(domains().sort()).to.have.length(2);
    expect(domains().every((d) => /^mnkvm-run-\d+-\d+-h[12]$/.test(d)), domains().join(' ')).to.equal(true);
    run.signal('SIGKILL');
    await run.done;
  });

  it('says in one line that another libvirtd is reached through --servers, not uri=', async () => {
    const r = await mnkvm(['--topo', 'single,2', '--host', `${LIBVIRT},uri=qemu+ssh://tb1/system`, ...NO_OF, '--test', 'pingall']);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^mnkvm: .*backend=libvirt uri=qemu\+ssh:\/\/tb1\/system: KVM hosts run on this machine's libvirtd \(qemu:\/\/\/system\), or on servers' \(give them with --servers\): leave uri= out$/m);
  });
});
