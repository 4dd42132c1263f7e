// Mininet's multilink.py in TypeScript: two hosts, each with two links to
// one switch, then Mininet's CLI (type net, links, pingall). Run with
//   node dist/examples/multilink.js
import { Mininet, Topo } from '../src/api/index.js';

/** Mininet's simpleMultiLinkTopo: n links from each host to s1. */
class SimpleMultiLinkTopo extends Topo<[n: number]> {
  override build(n: number): void {
    const [h1, h2] = [this.addHost('h1'), this.addHost('h2')];
    const s1 = this.addSwitch('s1');
    for (let i = 0; i < n; i++) {
      this.addLink(s1, h1);
      this.addLink(s1, h2);
    }
  }
}

await using net = await Mininet.start({ topo: new SimpleMultiLinkTopo(2), waitConnected: true, logLevel: 'info' });
await net.cli();
