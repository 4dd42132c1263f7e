// Mininet's limit.py in TypeScript: a tree of two hosts whose links are
// limited to 10 Mbit/s and whose hosts get 10% of the CPU each, once with
// the real-time scheduler (where the kernel has RT group scheduling) and
// once with CFS; iperf and Mininet's CPU limit test on each. One network per
// process, so the program runs itself again for each scheduler. Run with
//   node dist/examples/limit.js
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { Mininet } from '../src/api/index.js';

/** Mininet's info(): its log is on stderr. */
const info = (text: string) => process.stderr.write(text);

const bw = 10;     // Mbit/s
const cpu = 0.1;   // of the machine's CPU time

/** Whether the kernel can give a group of processes real-time CPU time (limit.py skips rt where /boot/config says not). */
function rtGroupSched(): boolean {
  try {
    return !readFileSync(`/boot/config-${release()}`, 'utf8').includes('# CONFIG_RT_GROUP_SCHED is not set\n');
  } catch {
    return true;   // (no config to read: limit.py tries)
  }
}

/** One scheduler's test, in a network of its own. */
async function limit(sched: string): Promise<void> {
  await using net = await Mininet.start({
    topo: 'tree,depth=1,fanout=2', host: `${sched},cpu=${cpu}`, link: `tc,bw=${bw}`, waitConnected: true, logLevel: 'info',
  });
  info(`*** Testing network ${bw.toFixed(2)} Mbps bandwidth limit\n`);
  await net.iperf();
  await net.runCpuLimitTest(cpu);
}

const sched = process.argv[2];
if (sched) {
  await limit(sched);
} else {
  for (const each of ['rt', 'cfs']) {
    info(`*** Testing with ${each} bandwidth limiting\n`);
    if (each === 'rt' && !rtGroupSched()) {
      info('*** RT Scheduler is not enabled in your kernel. Skipping this test\n');
      continue;
    }
    const run = spawnSync(process.execPath, [process.argv[1]!, each], { stdio: 'inherit' });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
}
