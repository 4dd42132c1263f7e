// --servers and --placement as mnkvm reads them, and the ssh_config Mininet's
// cluster edition runs over. No servers: milliseconds.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { shellQuote } from '../../src/cluster/machine.js';
import { parseServers, placer, sshAlias, sshConfig, type ServerSpec } from '../../src/cluster/servers.js';
import { serverAccel } from '../../src/engine/guest/accel.js';
import { MnkvmError } from '../../src/engine/errors.js';

const TB1: ServerSpec = { name: 'tb1', host: '127.0.0.1', port: 2221, user: 'root', key: '/run/mnkvm/run-testbed/id_ed25519', data: '10.99.0.1', testbed: true };
const testbed = (name: string) => (name === 'tb1' ? TB1 : null);

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(MnkvmError);
    return (e as Error).message;
  }
  throw new Error('not refused');
}

describe('servers (--servers, --placement)', function () {
  it('reads testbed servers and user@host[:port]', () => {
    expect(parseServers('tb1,alice@10.0.0.2:2200,server3', testbed)).to.deep.equal([
      TB1,
      { name: 'alice@10.0.0.2:2200', host: '10.0.0.2', port: 2200, user: 'alice', key: null, data: null, testbed: false },
      { name: 'server3', host: 'server3', port: 22, user: 'root', key: null, data: null, testbed: false },
    ]);
  });

  it('refuses a bad list in one line each', () => {
    expect(refusal(() => parseServers('tb2', testbed))).to.equal('--servers: tb2 is no server of a virtual testbed that is up: start one with `mnkvm testbed up`, or give user@host');
    expect(refusal(() => parseServers('tb1,,x', testbed))).to.match(/^--servers tb1,,x: an empty server name/);
    expect(refusal(() => parseServers('tb1,tb1', testbed))).to.equal('--servers tb1,tb1: tb1 is named twice: name each server once');
    expect(refusal(() => parseServers('a b', testbed))).to.match(/^--servers: a b is neither a testbed server/);
    expect(refusal(() => parseServers('root@h:99999', testbed))).to.match(/^--servers: root@h:99999 is neither/);
  });

  it("takes Mininet's placers by name", () => {
    expect(placer(undefined)).to.equal('switchbin');
    expect(placer('roundrobin')).to.equal('roundrobin');
    expect(refusal(() => placer('block'))).to.equal('--placement block: no such placer: give one of switchbin, hostswitchbin, roundrobin, random');
  });

  it('writes an ssh_config: one shared connection per server, no process left behind', () => {
    const config = sshConfig([TB1], '/run/mnkvm/run-1-2');
    expect(sshAlias(TB1)).to.equal('mnkvm-tb1');
    expect(config).to.contain('Host mnkvm-tb1\n  HostName 127.0.0.1\n  Port 2221\n  User root\n  IdentityFile /run/mnkvm/run-testbed/id_ed25519\n');
    expect(config).to.contain('  ControlMaster auto\n  ControlPath /run/mnkvm/run-1-2/ssh-%C\n');
    expect(config).not.to.contain('ControlPersist');
    expect(sshAlias({ ...TB1, name: 'root@10.0.0.2:22' })).to.equal('mnkvm-root-10.0.0.2-22');
  });
});

describe('a server as the libvirt backend uses it (ServerMachine)', function () {
  it('quotes each word of a command for the shell there, as it was given', () => {
    const words = ['sh', '-c', 'echo "$1"', 'sh', "it's a $HOME `x`", 'a-b_c.d/e:f=1,2@3%4+5'];
    const line = words.map(shellQuote).join(' ');
    expect(shellQuote('a-b_c.d/e:f=1,2@3%4+5')).to.equal('a-b_c.d/e:f=1,2@3%4+5');
    const r = spawnSync('sh', ['-c', line], { encoding: 'utf8' });
    expect(r.stdout).to.equal("it's a $HOME `x`\n");
  });

  it('gives guests KVM where the server has it, else TCG with a line saying so', () => {
    expect(serverAccel('tb1', true, 'auto')).to.deep.equal({ accel: 'kvm', notice: null });
    expect(serverAccel('tb1', false, 'auto').accel).to.equal('tcg');
    expect(serverAccel('tb1', false, 'auto').notice).to.match(/^\*\*\* mnkvm: KVM hosts on tb1 run under TCG/);
    expect(serverAccel('tb1', true, 'tcg').accel).to.equal('tcg');
    expect(refusal(() => serverAccel('tb2', false, 'kvm'))).to.equal('tb2: accel=kvm, but the server has no /dev/kvm: use accel=auto or accel=tcg, or turn KVM on there');
  });
});
