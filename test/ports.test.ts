// examples/'s TypeScript programs against their Python originals: each
// program and the Python it ports run here, one after the other, with the
// same input (Mininet's CLI commands on stdin where the original opens the
// CLI), and give the same result: what each case reads from both outputs,
// equal, and not nothing. (The Containernet-style port is compared in
// containernet.test.ts, beside its Python; the port over --servers in the
// testbed's test, test/servers.ts.)
import { expect } from 'chai';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/engine/paths.js';
import { expectClean, mnkvm, program, SCRIPTS } from './helpers.js';

const MININET_EXAMPLES = '/usr/lib/python3/dist-packages/mininet/examples';
const EXAMPLES = join(PROJECT_ROOT, 'examples');
const LXBR = ['--host', 'kvm', '--switch', 'lxbr', '--controller', 'none'];

/** The lines of text that match re, in order. */
const linesOf = (text: string, re: RegExp): string[] => text.split('\n').filter((l) => re.test(l)).map((l) => l.trimEnd());

/** A mean of numbers. */
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Port {
  /** examples/NAME.ts */
  name: string;
  /** mnkvm's arguments that run the Python original */
  python: string[];
  /** What both read on stdin */
  input?: string;
  /** What both must give, read from stdout and stderr together */
  result(all: string): string[];
  /** What the result must hold (so that two empty results are no pass) */
  holds: (string | RegExp)[];
}

const ports: Port[] = [
  {
    name: 'linuxrouter',
    python: ['run', join(MININET_EXAMPLES, 'linuxrouter.py'), ...LXBR],
    input: 'pingall\n',
    // the router's routing table, and pingall's lines
    result: (all) => linesOf(all, /^(\d+\.\d+\.\d+\.\d+\s+0\.0\.0\.0\s|\S+ -> |\*\*\* Results)/),
    holds: ['192.168.1.0     0.0.0.0         255.255.255.0   U     0      0        0 r0-eth1', '*** Results: 0% dropped (12/12 received)'],
  },
  {
    name: 'multilink',
    python: ['run', join(MININET_EXAMPLES, 'multilink.py'), ...LXBR],
    input: 'net\nlinks\npingall\n',
    // what the CLI printed, from its first prompt to its end
    result: (all) => /mininet> ((.|\n)*)\n\*\*\* Stopping/.exec(all)?.[1]?.split('\n').map((l) => l.trimEnd()) ?? [],
    holds: ['s1-eth3<->h1-eth1 (OK OK)', 'h2 h2-eth0:s1-eth2 h2-eth1:s1-eth4', '*** Results: 0% dropped (2/2 received)'],
  },
  {
    name: 'popenpoll',
    python: ['run', join(MININET_EXAMPLES, 'popenpoll.py'), ...LXBR],
    // which hosts' pings started, were answered, and, interrupted in the guest, said so, as pmonitor gave them
    // (how many answers: the clock's)
    result: (all) => [...new Set(linesOf(all, /^<h\d>: (PING|64 bytes from|\d+ packets transmitted)/)
      .map((l) => l.replace(/: icmp_seq=.*/, '').replace(/(\d+) packets transmitted, \1 received, 0% packet loss.*/, 'all answered')))].sort(),
    holds: ['<h1>: 64 bytes from 10.0.0.1', '<h2>: 64 bytes from 10.0.0.1', '<h3>: 64 bytes from 10.0.0.1', '<h3>: all answered'],
  },
  {
    name: 'limit',
    python: ['run', join(MININET_EXAMPLES, 'limit.py'), ...LXBR],
    // per scheduler: iperf within 10 Mbit/s, the CPU limit test's mean to the nearest 5% (10% asked: rt gives half here, its period's share)
    result: (all) => all.split('*** Testing with ').slice(1).map((part) => {
      const sched = part.split(' ')[0];
      if (part.includes('RT Scheduler is not enabled')) return `${sched}: skipped`;
      const iperf = (/Results: \['([\d.]+) Mbits\/sec', '([\d.]+) Mbits\/sec'\]/.exec(part) ?? []).slice(1).map(Number);
      const cpu = (/Testing CPU 10% bandwidth limit\n\*\*\* Results: \[([^\]]*)\]/.exec(part)?.[1] ?? '').split(',').map(Number);
      return `${sched}: iperf ${iperf.every((bw) => bw > 5 && bw <= 10.5) ? 'within' : 'beyond'} 10 Mbit/s (${iperf.length} results), ` +
        `CPU ${cpu.length} samples, mean ${Math.round(mean(cpu) / 5) * 5}%`;
    }),
    holds: [/^cfs: iperf within 10 Mbit\/s \(2 results\), CPU 10 samples, mean 10%$/],
  },
  {
    name: 'scratchnet',
    // scratchnet.py's steps on a Linux bridge (this machine has no Open vSwitch kernel datapath)
    python: ['run', join(SCRIPTS, 'scratchnet_host.py'), ...LXBR],
    result: (all) => [...linesOf(all, / is a /), ...linesOf(all, /packets transmitted/).map((l) => l.replace(/, time .*/, ''))],
    holds: ['h0 is a KVMHost, h1 is a KVMHost', '1 packets transmitted, 1 received, 0% packet loss'],
  },
  {
    name: 'mobility',
    // mobility.py's test on Linux bridges (test/scripts/mobility_lxbr.py says why)
    python: ['run', join(SCRIPTS, 'mobility_lxbr.py'), ...LXBR],
    // each move, each switch's connections, each pingall (h1's new port is a random one)
    result: (all) => linesOf(all, /^(\* Moving|\* \S+ is now connected|s\d: |\*\*\* Results)/)
      .map((l) => l.replace(/port \d+/, 'port N').replace(/(s\d-eth)\d+/, '$1N').replace(/h1\(\d+\)/, 'h1(N)')),
    holds: ['* Moving h1 from s3 to s1 port N', 's1: s2(2) h1(N)', '*** Results: 0% dropped (6/6 received)'],
  },
  {
    name: 'sriov_link',
    python: ['run', join(EXAMPLES, 'sriov_link.py')],
    result: (all) => linesOf(all, /^(LINK |SR-IOV link|\S+ -> |\*\*\* Results)/),
    holds: ['LINK h1-eth0<->h2-eth0 (OK OK) (SR-IOV emulated, VLAN 300)', 'SR-IOV link h1-h2: rate, spoofchk, trust: a VF\'s settings, and an emulated link has no VF: left out',
      '*** Results: 0% dropped (2/2 received)'],
  },
];

describe("examples/'s TypeScript ports give their Python originals' results", function () {
  afterEach(expectClean);

  for (const port of ports) {
    it(`${port.name}.ts as ${port.python[1]!.replace(/.*\//, '')}`, async () => {
      const py = await mnkvm(port.python, { input: port.input });
      expect(py.code, py.out + py.err).to.equal(0);
      const ts = await program(join('examples', `${port.name}.js`), [], { input: port.input });
      expect(ts.code, ts.out + ts.err).to.equal(0);
      const [expected, got] = [port.result(py.out + py.err), port.result(ts.out + ts.err)];
      for (const want of port.holds) {
        expect(expected.some((l) => (typeof want === 'string' ? l === want : want.test(l))), `${want} in the Python's\n${py.out}${py.err}`).to.equal(true);
      }
      expect(got, ts.out + ts.err).to.deep.equal(expected);
    });
  }
});
