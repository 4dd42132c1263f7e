// Mininet's popenpoll.py in TypeScript: every host pings the first one, and
// pmonitor() follows the pings' output, a line at a time from whichever
// host has one, for 10 seconds; then SIGINT ends them. Run with
//   node dist/examples/popenpoll.js
import { Mininet, pmonitor, type Host, type Popen } from '../src/api/index.js';

/** Mininet's info(): its log is on stderr. */
const info = (text: string) => process.stderr.write(text);

const N = 3;
const seconds = 10;

await using net = await Mininet.start({ topo: `single,${N}`, waitConnected: true, logLevel: 'info' });
const hosts = await net.hosts();
info('Starting test...\n');
const server = hosts[0]!;
const popens = new Map<Host, Popen>();
for (const h of hosts) popens.set(h, await h.popen(['ping', (await server.IP())!]));
info(`Monitoring output for ${seconds} seconds\n`);
const endTime = Date.now() + seconds * 1000;
let interrupted = false;
for await (const [h, line] of pmonitor(popens, 500)) {
  if (h) info(`<${h.name}>: ${line}`);
  if (Date.now() >= endTime && !interrupted) {
    for (const p of popens.values()) await p.sendSignal('SIGINT');
    interrupted = true;
  }
}
