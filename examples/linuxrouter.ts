// Mininet's linuxrouter.py in TypeScript: a router joining three IP subnets,
// each a host behind a switch. The router is a namespace host that forwards
// (Python's LinuxRouter is a Node whose config() turns forwarding on: a
// TypeScript program does not subclass Mininet's classes, so it says so
// with a command); h1 to h3 are KVM hosts. It prints the router's routing
// table, then runs Mininet's CLI (type pingall). Run with
//   node dist/examples/linuxrouter.js
import { Mininet, Topo } from '../src/api/index.js';

/** Mininet's info(): its log is on stderr. */
const info = (text: string) => process.stderr.write(text);

const topo = new Topo();
const defaultIP = '192.168.1.1/24';   // r0-eth1's address
const router = topo.addHost('r0', { kind: 'namespace', ip: defaultIP });
const [s1, s2, s3] = ['s1', 's2', 's3'].map((name) => topo.addSwitch(name)) as [string, string, string];
topo.addLink(s1, router, { intfName2: 'r0-eth1', params2: { ip: defaultIP } });
topo.addLink(s2, router, { intfName2: 'r0-eth2', params2: { ip: '172.16.0.1/12' } });
topo.addLink(s3, router, { intfName2: 'r0-eth3', params2: { ip: '10.0.0.1/8' } });
const h1 = topo.addHost('h1', { ip: '192.168.1.100/24', defaultRoute: 'via 192.168.1.1' });
const h2 = topo.addHost('h2', { ip: '172.16.0.100/12', defaultRoute: 'via 172.16.0.1' });
const h3 = topo.addHost('h3', { ip: '10.0.0.100/8', defaultRoute: 'via 10.0.0.1' });
for (const [h, s] of [[h1, s1], [h2, s2], [h3, s3]]) topo.addLink(h!, s!);

await using net = await Mininet.start({ topo, waitConnected: true, logLevel: 'info' });
const r0 = await net.get('r0');
await r0.cmd('sysctl net.ipv4.ip_forward=1');
info('*** Routing Table on Router:\n');
info(await r0.cmd('route'));
await net.cli();
