// `mnkvm -c`: remove what earlier runs left, from their resource records.
// Unlike `mn -c` it kills nothing by name: only recorded (pid, start time) pairs.
// Servers that runs spread over are cleaned the same way, by mnkvm -c there.
import { Claims } from '../engine/claims.js';
import { RunRecord } from '../engine/records.js';
import { describeSweep } from '../engine/sweep.js';
import { removeStaleTemplates } from '../engine/qemu/template.js';
import { cleanServers } from '../cluster/cluster.js';
import { testbedIsUp } from '../testbed/testbed.js';

export async function clean(log: (line: string) => void): Promise<number> {
  log('*** Removing what earlier mnkvm runs left');
  // servers first: a virtual testbed's are still up (this machine's sweep takes it down)
  await cleanServers(testbedIsUp(), log);
  const orphans = RunRecord.orphans();
  for (const run of orphans) {
    const removed = describeSweep(await run.sweep());
    log(`*** ${run.dir}: ${removed || 'nothing left to remove'}`);
  }
  for (const claim of Claims.dropStray()) log(`*** dropped the claim ${claim} of a run that left no record`);
  for (const template of await removeStaleTemplates()) log(`*** removed stale snapshot template ${template}`);
  log(`*** Cleanup complete (${orphans.length} run${orphans.length === 1 ? '' : 's'})`);
  return 0;
}
