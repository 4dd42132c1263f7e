// The QMP client against a real QEMU without a guest (-machine none): a
// command answered, and a command on a closed client failing at once (a
// NIC's unplug after its VM stopped waited for ever, and the run's end 20 s
// for it).
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient } from '../../src/engine/qemu/qmp.js';

describe('QMP client', () => {
  let dir: string;
  let qemu: ChildProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mnkvm-qmp-'));
    qemu = spawn('qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', `unix:${join(dir, 'qmp')},server=on,wait=off`],
      { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(join(dir, 'qmp')); i++) await new Promise((r) => setTimeout(r, 50));
  });
  after(() => {
    qemu.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a command, and once closed fails every command at once', async () => {
    const qmp = await QmpClient.open(join(dir, 'qmp'));
    expect(await qmp.execute('query-status')).to.deep.include({ running: true });
    qmp.close();
    await qmp.execute('device_del', { id: 'nic1' }).then(() => expect.fail('no error'), (e: Error) => {
      expect(e.message).to.equal('QMP device_del: QEMU has stopped');
    });
  });
});
