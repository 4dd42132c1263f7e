// Containernet's basic example in TypeScript, as the suite's
// test/scripts/containernet/containernet_example.py has it: two Docker
// hosts behind two switches with a TCLink between them, resource options
// and environment, a Docker host added and removed at run time. Each Docker
// host is a KVM host booted from the image its dimage stands for, given as
// `mnkvm run --image` takes it. Prints CONTAINERNET and a JSON object of
// what it found. Run with
//   node dist/examples/containernet_example.js web:1=docker-archive:web.tar
import { Mininet } from '../src/api/index.js';

const images = Object.fromEntries(process.argv.slice(2).map((arg) => {
  const at = arg.indexOf('=');
  if (at < 1) throw new Error(`${arg}: give DIMAGE=SOURCE, e.g. web:1=docker-archive:web.tar`);
  return [arg.slice(0, at), arg.slice(at + 1)];
}));
const info = (text: string) => process.stderr.write(text);

await using net = await Mininet.create({ images, logLevel: 'info' });
info('*** Adding controller\n');
await net.addController('c0');
info('*** Adding docker containers\n');
const d1 = await net.addDocker('d1', {
  ip: '10.0.0.251', dimage: 'web:1', environment: { MODE: 'test run' }, mem_limit: '300m', cpu_quota: 150000, cpu_period: 100000,
});
const d2 = await net.addDocker('d2', { ip: '10.0.0.252', dimage: 'web:1', cpuset_cpus: '0', cpu_shares: 20 });
info('*** Adding switches\n');
const s1 = await net.addSwitch('s1');
const s2 = await net.addSwitch('s2');
info('*** Creating links\n');
await net.addLink(d1, s1);
await net.addLink(s1, s2, { kind: 'tc', bw: 10 });   // (no delay: no netem here)
await net.addLink(s2, d2);
info('*** Starting network\n');
await net.start();
const r: Record<string, unknown> = {};
r.ping = await net.ping([d1, d2]);
r.env = (await d1.cmd('echo "$MODE/$GREETING"')).trim();
const popen = await d1.popen(['sh', '-c', 'echo "$MODE"']);
let out = '';
for await (const line of popen.lines()) out += line;
r.envPopen = out.trim();
r.memKiB = Number.parseInt(await d1.cmd("awk '/MemTotal/ { print $2 }' /proc/meminfo"), 10);
r.cpus = Number.parseInt(await d1.cmd('grep -c ^processor /proc/cpuinfo'), 10);
r.cwd = (await d1.cmd('pwd')).trim();
await d2.updateCpuLimit({ cpu_shares: 512 });
r.resources = (await d2.resources()).cpu_shares;
info('*** Adding a docker container at run time\n');
const d3 = await net.addDocker('d3', { ip: '10.0.0.253', dimage: 'web:1' });
await net.addLink(d3, s1, { params1: { ip: '10.0.0.253/8' } });
r.added = await d1.cmd('ping -c 1 -W 5 10.0.0.253');
await net.delLinkBetween('d3', 's1');   // Containernet's removeLink( node1='d3', node2='s1' )
await net.delHost(d3);                   // Containernet's removeDocker( 'd3' )
r.hosts = (await net.hosts()).map((h) => h.name).sort();
info('*** Stopping network\n');
await net.stop();
console.log(`CONTAINERNET ${JSON.stringify(r)}`);
