// The backend contract (test/contract.ts) against QEMU: real guests,
// started as clones of a snapshot template, with their guest agent; and
// traffic over each NIC kind that can exist here.
import { expect } from 'chai';
import { connect } from 'node:net';
import { Engine } from '../src/engine/engine.js';
import { kvmHostOptions } from '../src/engine/options.js';
import { QemuBackend } from '../src/engine/qemu/backend.js';
import { RunRecord } from '../src/engine/records.js';
import { backendContract, TestNamespace } from './contract.js';
import { TEST_ENV } from './helpers.js';
import { bound, boundText } from './speed.js';

const options = () => kvmHostOptions({ accel: TEST_ENV.MNKVM_ACCEL, share: 'none' });

backendContract('QEMU', (record, notice) => new QemuBackend(record, notice), options);

/** Type a line into a guest's console; resolve with the output once it matches done (bounded). */
function consoleRun(path: string, line: string, done: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let out = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no ${done} within ${boundText(timeoutMs)}:\n${out}`)); }, bound(timeoutMs));
    socket.on('connect', () => socket.write(`${line}\n`));
    socket.on('data', (d: Buffer) => {
      out += d.toString();
      if (done.test(out)) { clearTimeout(timer); socket.destroy(); resolve(out); }
    });
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

describe('QEMU backend: NICs carry traffic', function () {
  this.timeout(120_000);

  it('joins two guests by a tunnel (VXLAN over loopback), as hosts on two servers would be', async () => {
    const engine = new Engine(RunRecord.create());
    const namespaces = [await TestNamespace.open(engine.record), await TestNamespace.open(engine.record)];
    try {
      const consoles: string[] = [];
      for (const [i, ns] of namespaces.entries()) {
        const name = `h${i + 1}`;
        engine.startVm({ name, nsPid: ns.pid, options: options() });
        engine.attachNic({ name, nic: { kind: 'tunnel', intf: `${name}-eth0`, vni: 77, local: '127.0.0.1', remote: '127.0.0.1', port: 48811 + i, remotePort: 48812 - i } });
        consoles.push((await engine.vmReady({ name })).console);
      }
      for (const [i, path] of consoles.entries()) {
        await consoleRun(path, `ip addr add 10.77.0.${i + 1}/24 dev h${i + 1}-eth0 && ip link set h${i + 1}-eth0 up && echo UP-$((40+2))`, /UP-42/);
      }
      const out = await consoleRun(consoles[0], 'ping -c 2 -W 5 10.77.0.2 >/dev/null && echo PING-$((1+1)) || echo PING-$((2+2))', /PING-[24]/);
      expect(out, 'h1 pings h2 over the tunnel').to.match(/PING-2/);
    } finally {
      engine.stopVm({ name: 'h1' });
      engine.stopVm({ name: 'h2' });
      await engine.settle();
      for (const ns of namespaces) await ns.close();
      await engine.shutdown();
    }
  });
});
