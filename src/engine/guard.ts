// A run's guard (see RunRecord.create): started with the run's record
// folder once the run's process is gone; sweeps the record if the run could
// not (it was killed). `mnkvm -c` does the same for every ended run.
import { existsSync } from 'node:fs';
import { RunRecord } from './records.js';

const dir = process.argv[2];
if (dir && existsSync(dir)) {
  const record = RunRecord.at(dir);
  if (!record.ownerAlive()) await record.sweep();
}
