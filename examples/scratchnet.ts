// Mininet's scratchnet.py in TypeScript: a network built a step at a time,
// two hosts and a switch, their links and addresses set by hand, the switch
// started by hand, one ping. (scratchnet.py builds its nodes outside a
// Mininet object and runs an Open vSwitch kernel bridge; a TypeScript
// program's nodes live in a network, here one never started, and its
// switch is a Linux bridge: as test/scripts/scratchnet_host.py, the Python
// the suite compares this with.) Run with
//   node dist/examples/scratchnet.js
import { Mininet } from '../src/api/index.js';

/** Mininet's info(): its log is on stderr. */
const info = (text: string) => process.stderr.write(text);

await using net = await Mininet.create({ logLevel: 'info' });
info('*** Creating nodes\n');
const switch0 = await net.addSwitch('s0');
const h0 = await net.addHost('h0');
const h1 = await net.addHost('h1');
info('*** Creating links\n');
await net.addLink(h0, switch0);
await net.addLink(h1, switch0);
info('*** Configuring hosts\n');
await h0.setIP('192.168.123.1/24');
await h1.setIP('192.168.123.2/24');
info(`${h0.name} is a ${h0.pythonClass}, ${h1.name} is a ${h1.pythonClass}\n`);
info('*** Starting network using a Linux bridge\n');
await switch0.start();
info('*** Running test\n');
info(await h0.cmd('ping -c1 -W5', (await h1.IP())!));
info('*** Stopping network\n');
await switch0.stop();
