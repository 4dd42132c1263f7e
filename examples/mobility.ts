// Mininet's mobility.py in TypeScript: h1 moves from s1 to s2, to s3 and
// back to s1, each time to a port picked at random, and pingall after each
// move. mobility.py moves the switch's end of h1's link with its own
// Open vSwitch class; a TypeScript program does not subclass Mininet's
// classes, so here h1 gets a new link to the new switch, with the address
// and MAC its old one had (for a KVM host: a NIC unplugged, a NIC plugged
// in). The switches are Linux bridges. Run with
//   node dist/examples/mobility.js
import { Mininet, type Node, type Switch } from '../src/api/index.js';

/** Mininet's info(): its log is on stderr. */
const info = (text: string) => process.stderr.write(text);

/** Compactly print the nodes connected to each switch, with the switch's port. */
async function printConnections(switches: Switch[]): Promise<void> {
  for (const sw of switches) {
    let line = `${sw.name}: `;
    for (const [port, intf] of await sw.intfs()) {
      const link = await intf.link();
      if (!link) continue;
      const remote = link.intf1.node !== sw ? link.intf1 : link.intf2;
      line += `${remote.node.name}(${port}) `;
    }
    info(`${line}\n`);
  }
}

/** Move host from oldSwitch to newSwitch's port newPort: its interface and the switch's, as they are now. */
async function moveHost(host: Node, oldSwitch: Switch, newSwitch: Switch, newPort: number) {
  const [[hintf]] = await host.connectionsTo(oldSwitch);
  const [ip, mac] = [await hintf!.IP(), await hintf!.MAC()];
  await net.delLinkBetween(host, oldSwitch);
  // (the network's addresses are 10.0.0.0/8)
  const link = await net.addLink(host, newSwitch, { port2: newPort, addr1: mac!, params1: { ip: `${ip}/8` } });
  return [link.intf1, link.intf2] as const;
}

info('* Simple mobility test\n');
await using net = await Mininet.start({ topo: 'linear,3', waitConnected: true, logLevel: 'info' });
const switches = await net.switches();
await printConnections(switches);
info('* Testing network\n');
await net.pingAll();
info('* Identifying switch interface for h1\n');
const h1 = await net.get('h1');
let old = await net.get('s1') as Switch;
for (const s of [2, 3, 1]) {
  const next = await net.get(`s${s}`) as Switch;
  const port = 10 + Math.floor(Math.random() * 11);   // 10 to 20, as randint( 10, 20 )
  info(`* Moving ${h1.name} from ${old.name} to ${next.name} port ${port} \n`);
  const [hintf, sintf] = await moveHost(h1, old, next, port);
  info(`* ${hintf.name} is now connected to ${sintf.name} \n`);
  info('* Clearing out old flows\n');
  for (const sw of switches) await sw.cmd('bridge fdb flush dev', sw.name);
  info('* New network:\n');
  await printConnections(switches);
  info('* Testing connectivity:\n');
  await net.pingAll();
  old = next;
}
