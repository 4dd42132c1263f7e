// ssh's options, defined once (src/engine/ssh.ts): the command lines and
// the ssh_config they make, word for word. No VMs: milliseconds.
import { expect } from 'chai';
import { sshConfig, type ServerSpec } from '../../src/cluster/servers.js';
import { guestSshArgs } from '../../src/engine/ssh.js';

describe('ssh options (one definition)', function () {
  it("log into a guest (KVMHost's popen and terminals: ssh OPTIONS -T|-t TARGET)", () => {
    expect(guestSshArgs('/cache/images/default/id_ed25519').join(' ')).to.equal('-F /dev/null -q -i /cache/images/default/id_ed25519 ' +
      '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=10 ' +
      '-o ServerAliveInterval=1 -o ServerAliveCountMax=5');
  });

  it("write a run's ssh_config: a testbed server's host key is not checked, another server's is", () => {
    const tb1: ServerSpec = { name: 'tb1', host: '127.0.0.1', port: 2221, user: 'root', key: '/k', data: null, testbed: true };
    const other: ServerSpec = { name: 'srv', host: 'srv', port: 22, user: 'root', key: null, data: null, testbed: false };
    expect(sshConfig([tb1, other], '/run/mnkvm/run-1-2')).to.equal([
      'Host mnkvm-tb1', '  HostName 127.0.0.1', '  Port 2221', '  User root', '  IdentityFile /k', '  IdentitiesOnly yes',
      '  StrictHostKeyChecking no', '  UserKnownHostsFile /dev/null', '  LogLevel ERROR', '  BatchMode yes', '  ConnectTimeout 10',
      '  ServerAliveInterval 5', '  ServerAliveCountMax 3', '  ControlMaster auto', '  ControlPath /run/mnkvm/run-1-2/ssh-%C', '',
      'Host mnkvm-srv', '  HostName srv', '  Port 22', '  User root',
      '  LogLevel ERROR', '  BatchMode yes', '  ConnectTimeout 10',
      '  ServerAliveInterval 5', '  ServerAliveCountMax 3', '  ControlMaster auto', '  ControlPath /run/mnkvm/run-1-2/ssh-%C', '',
    ].join('\n'));
  });
});
