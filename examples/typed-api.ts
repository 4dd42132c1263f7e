// The typed TypeScript API: a KVM host and a namespace host, a command, a
// streamed process, a ping and a link added at run time. Run with
//   node dist/examples/typed-api.js
import { Mininet, Topo } from '../src/api/index.js';

const topo = new Topo();
const s1 = topo.addSwitch('s1');
topo.addLink(topo.addHost('h1', { kind: 'kvm', mem: 256 }), s1);
topo.addLink(topo.addHost('h2', { kind: 'namespace' }), s1);

await using net = await Mininet.start({ topo });
const [h1, h2] = await net.get('h1', 'h2');
console.log(`h1 kernel: ${(await h1.cmd('uname -r')).trim()}`);
console.log(`h1 address: ${await h1.IP()}`);
const ping = await h1.popen(['ping', '-c', '2', '-i', '0.2', (await h2.IP())!]);
for await (const line of ping.lines()) process.stdout.write(`h1 ping | ${line}`);
console.log(`ping exit code: ${await ping.wait()}`);
console.log(`dropped: ${await net.pingAll()}%`);
await net.addHost('h3', { kind: 'kvm' });
const link = await net.addLink('h3', 's1');
console.log(`new link: ${link.intf1.name} <-> ${link.intf2.name}`);
