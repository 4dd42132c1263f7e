// Nothing is left behind: after normal exit, an error, Ctrl-C, SIGTERM,
// and SIGKILL followed by `mnkvm -c`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { expectClean, leftovers, Mnkvm, mnkvm } from './helpers.js';

const RUN_DIR = process.env.MNKVM_RUN_DIR ?? '/run/mnkvm';

describe('clean-up', function () {
  afterEach(expectClean);

  it('removes everything after an error during the build (a guest that never boots)', async () => {
    const r = await mnkvm(['--topo', 'single,2', '--host', 'kvm,bootTimeout=1,boot=cold', '--test', 'pingall']);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/mnkvm: h\d: guest did not reach its shell within 1 s \(where guests boot slowly, under TCG or on a nested or busy machine, raise bootTimeout: --host kvm,bootTimeout=4\); last console lines:/);
    // Nothing is left (afterEach): the engine stopped the failed guests itself; what else the
    // run left, if anything (namespace shells exit with the Python process), the run's sweep removed.
  });

  it('removes everything on Ctrl-C during the build', async () => {
    const run = new Mnkvm(['--topo', 'linear,3', '--host', 'kvm', '--test', 'pingall']);
    await run.waitFor(/\*\*\* Adding links:/);
    run.signal('SIGINT');
    const r = await run.done;
    expect(r.code, r.out + r.err).to.equal(130);
    expect(r.out + r.err).to.match(/Interrupted/);
  });

  it('stops the network on Ctrl-C at an idle CLI prompt', async () => {
    const run = new Mnkvm(['--topo', 'single,2', '--host', 'kvm']);
    await run.waitFor(/mininet> $/, { stdoutOnly: true });
    run.send('h1 sleep 60\n');
    await new Promise((r) => setTimeout(r, 1500));
    run.out = '';
    run.signal('SIGINT');            // interrupts the command (sleep 60), as in mn
    await run.waitFor(/mininet> $/, { stdoutOnly: true, timeoutMs: 30_000 });
    run.signal('SIGINT');            // at the idle prompt: leave the CLI
    const r = await run.done;
    expect(r.code, r.err).to.equal(0);
    expect(r.out + r.err).to.match(/\*\*\* Stopping 2 hosts/);
  });

  it('removes everything on SIGTERM', async () => {
    const run = new Mnkvm(['--topo', 'single,2', '--host', 'kvm']);
    await run.waitFor(/mininet> $/, { stdoutOnly: true });
    run.signal('SIGTERM', false);
    const r = await run.done;
    expect(r.code).to.equal(143);
    expect(r.err).to.match(/\*\*\* mnkvm: removed 2 VMs, .*1 bridge/);
  });

  it('mnkvm -c removes what a SIGKILLed run left, --nat\'s iptables rules and forwarding setting included', async () => {
    const forwarding = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const run = new Mnkvm(['--topo', 'single,2', '--host', 'kvm', '--nat']);
    await run.waitFor(/mininet> $/, { stdoutOnly: true });
    // the run's guard would sweep at once (runs.test.ts): kill it first, as if the machine's whole session died
    const record = readdirSync(RUN_DIR).find((d) => d.startsWith(`run-${run.child.pid}-`))!;
    process.kill(Number(readFileSync(join(RUN_DIR, record, 'guard.pid'), 'utf8')), 'SIGKILL');
    run.signal('SIGKILL');
    await run.done;
    const left = leftovers().join('\n');
    expect(left).to.match(/process \d+ mnkvm:h1/);
    expect(left).to.match(/iptables -A FORWARD -s 10\.0\.0\.0\/8 -i nat0-eth0 -j ACCEPT/);
    expect(left).to.match(/iptables -A POSTROUTING -s 10\.0\.0\.0\/8 ! -d 10\.0\.0\.0\/8 -j MASQUERADE/);
    const c = await mnkvm(['-c']);
    expect(c.code).to.equal(0);
    // (the node shells may have gone with their ptys: how many are left depends on timing)
    expect(c.out, c.out).to.match(/: 2 VMs, .*1 bridge, 4 iptables rules/);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).to.equal(forwarding);
  });
});
