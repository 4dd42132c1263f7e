// examples/sriov_link.py in TypeScript: two KVM hosts on one SR-IOV link
// with its knobs set (a VLAN of its own, a transmit rate limit, spoof
// checking on, trust off). Where the machine has an SR-IOV NIC the link's
// ends are VFs passed through; elsewhere the link is emulated, and one line
// says so (and that the VF's knobs are left out). Run with
//   node dist/examples/sriov_link.js
import { Mininet } from '../src/api/index.js';

await using net = await Mininet.create({ logLevel: 'info' });
const [h1, h2] = [await net.addHost('h1'), await net.addHost('h2')];
const link = await net.addLink(h1, h2, { kind: 'sriov', vlan: 300, rate: 100, spoofchk: true, trust: false });
await net.start();
console.log(`LINK ${link} ${await link.status()}`);
await net.pingAll();
