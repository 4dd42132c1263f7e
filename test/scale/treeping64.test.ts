// Scale cases, in npm run test:scale (not npm test: each takes from 15 to 35
// minutes under TCG). What each checks is also checked at small size in
// npm test (examples.test.ts: treeping.py).
import { expect } from 'chai';
import { join } from 'node:path';
import { expectClean, mnkvm } from '../helpers.js';
import { bound } from '../speed.js';

const EXAMPLES = '/usr/lib/python3/dist-packages/mininet/examples';

describe("Mininet's examples at full size under mnkvm run --host kvm", function () {
  afterEach(expectClean);

  // 2 x 64 KVM hosts, each pinging the 63 others: under TCG on 2 cores every ARP
  // broadcast wakes 63 emulated guests (8 minutes per network on the faster machine, 17 on the slower)
  it('treeping64.py (TreeNet with UserSwitch and OVSKernelSwitch, both replaced by --switch lxbr)', async function () {
    this.timeout(bound(50 * 60_000));
    const r = await mnkvm(['run', join(EXAMPLES, 'treeping64.py'), '--host', 'kvm', '--switch', 'lxbr', '--controller', 'none'], { timeoutMs: 48 * 60_000 });
    const all = r.out + r.err;
    expect(r.code, all).to.equal(0);
    expect(all).to.match(/reference user: 0% packet loss/);
    expect(all).to.match(/Open vSwitch kernel: 0% packet loss/);
    expect(all).to.not.match(/Could not find|Traceback/);
  });
});
