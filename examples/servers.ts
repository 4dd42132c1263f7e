// A network spread over servers from TypeScript, as
//   mnkvm --servers tb1,tb2 --topo linear,4 --test pingall
// makes it: four switches in a line, a namespace host on each, placed on
// the servers by switchbin (each switch with its hosts, the line cut in
// two), links between servers tunnelled; pingall, then where each host
// runs. The servers: a virtual testbed's (`mnkvm testbed up --servers 2`)
// or user@host[:port] (docs/servers.md). Run with
//   node dist/examples/servers.js tb1,tb2
import { Mininet } from '../src/api/index.js';

const servers = process.argv[2] ?? 'tb1,tb2';

await using net = await Mininet.start({ topo: 'linear,4', host: 'namespace', servers, logLevel: 'info' });
await net.pingAll();
for (const host of await net.hosts()) console.log(`${host.name} runs on ${(await host.cmd('hostname')).trim()}`);
