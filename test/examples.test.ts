// Acceptance: Mininet's own example scripts (Debian's mininet package), unchanged,
// under `mnkvm run --host kvm` with the Linux bridge (or Open vSwitch in its
// userspace datapath) and no controller. (popenpoll.py, linuxrouter.py,
// multilink.py, limit.py, and scratchnet.py's and mobility.py's steps run in
// test/ports.test.ts, beside their TypeScript ports.)
import { expect } from 'chai';
import { join, resolve } from 'node:path';
import { expectClean, mnkvm, SCRIPTS } from './helpers.js';

const EXAMPLES = '/usr/lib/python3/dist-packages/mininet/examples';

const LXBR = ['--switch', 'lxbr'];
// Examples that talk to Open vSwitch themselves, on its userspace datapath.
const OVS = ['--switch', 'ovs,datapath=user,failMode=standalone'];

// [script, what its output must show, switch arguments, script arguments]
const cases: [string, RegExp[], string[]?, string[]?][] = [
  ['popen.py', [/<h\d>: 64 bytes from 10\.0\.0\.\d+: icmp_seq=1/]],
  ['emptynet.py', [/\*\*\* Running CLI/, /\*\*\* Done/]],
  ['intfoptions.py', [/Results: 0% dropped/, /Results: \['[\d.]+ Mbits\/sec', '[\d.]+ Mbits\/sec'\]/, /rtt min\/avg\/max/]],
  ['linearbandwidth.py', [/^4\s+[\d.]+ [MG]bits\/sec/m]],
  // (multiping prints what each read of a host returns: one or more results, so no line start is expected)
  ['multiping.py', [/Host h1 \(10\.0\.0\.1\) will be pinging ips/, /10\.0\.0\.1 -> 10\.0\.0\.2 1 packets transmitted, 1 received/]],
  // The hosts write ping's output to /tmp, the script reads it there: the guests share the machine's /tmp.
  ['multipoll.py', [/h[23]: 64 bytes from 10\.0\.0\.1: icmp_seq=\d/]],
  // CPULimitedHost is an explicit class: it stays a namespace host (the rule of mnkvm run).
  ['simpleperf.py', [/h1 \(cfs 25000\/100000us\)/, /Results: \['10M', '[\d.]+ Mbits\/sec'/], LXBR, ['testmode']],
  // ... and with an OVSKernelSwitch and a Controller made by hand: --switch and --controller replace them there
  // too, so the script's wait for the switch to connect ends (a new user's trial: it never did)
  [join(SCRIPTS, 'scratchnet_ovs.py'), [/s0 is a LinuxBridge, c0 is a NoController/, /1 packets transmitted, 1 received/]],
  ['multitest.py', [/Results: 0% dropped \(12\/12 received\)/, /h1-eth0: flags=/], OVS],
  ['numberedports.py', [/Validating that s1-eth9 is actually on port 9 \.\.\. Validated\./], OVS],
];

describe("Mininet's examples under mnkvm run --host kvm", function () {
  afterEach(expectClean);

  // treeping64.py at small size (2 x 4 KVM hosts; the 2 x 64 are in npm run test:scale)
  it('treeping.py: TreeNet with UserSwitch and OVSKernelSwitch, both replaced by --switch lxbr', async () => {
    const r = await mnkvm(['run', join(SCRIPTS, 'treeping.py'), '--host', 'kvm', ...LXBR, '--controller', 'none']);
    const all = r.out + r.err;
    expect(r.code, all).to.equal(0);
    expect(all).to.match(/\*\*\* Ping: testing ping reachability\n(h\d -> h\d h\d h\d \n){4}\*\*\* Results: 0% dropped \(12\/12 received\)/);
    expect(all).to.match(/reference user: 0% packet loss/);
    expect(all).to.match(/Open vSwitch kernel: 0% packet loss/);
    expect(all).to.not.match(/Could not find|Traceback/);
  });

  for (const [script, expected, switchArgs = LXBR, scriptArgs = []] of cases) {
    it(`${script.replace(/.*\//, '')} (${switchArgs[1]})`, async () => {
      const r = await mnkvm(['run', resolve(EXAMPLES, script), '--host', 'kvm', ...switchArgs, '--controller', 'none', '--', ...scriptArgs]);
      const all = r.out + r.err;
      expect(r.code, all).to.equal(0);
      expect(all).to.not.match(/could not be|Traceback/);
      for (const re of expected) expect(all).to.match(re);
    });
  }
});
