// Mocha's root hooks (.mocharc.json and test/scale/mocharc.json require this
// file): the suite starts on a clean machine, measures its speed factor, and
// scales each test's bound by it.
import { spawnSync } from 'node:child_process';
import { CLI, leftovers } from './helpers.js';
import { bound, measure, probeSeconds, REFERENCE_PROBE_S, speedFactor } from './speed.js';

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    this.timeout(360_000);
    // Each test's leak check would blame the first test for what an earlier,
    // killed run left (a testbed still up, a record of a dead mnkvm): remove
    // it first, as a user would, with mnkvm -c, and say what it was.
    const left = leftovers();
    if (left.length) {
      const r = spawnSync(process.execPath, [CLI, '-c'], { encoding: 'utf8', timeout: 300_000 });
      const still = leftovers();
      if (r.status !== 0 || still.length) throw new Error(`this machine has what an earlier mnkvm run left, and mnkvm -c did not remove it:\n${still.join('\n')}\n${r.stdout}${r.stderr}`);
      console.log(`  (the machine had what an earlier run left: ${left.join(', ')}; mnkvm -c removed it before the suite)`);
    }
    measure();
    console.log(probeSeconds() === 0
      ? `  (speed factor ${speedFactor().toFixed(2)}, from MNKVM_TEST_SPEED)`
      : `  (speed factor ${speedFactor().toFixed(2)}: one KVM host booted under TCG in ${probeSeconds().toFixed(1)} s, ${REFERENCE_PROBE_S} s where the suite's time bounds were written; each bound is scaled by it)`);
  },
  /** A test's mocha timeout (its suite's, or .mocharc's) scaled; a test that sets its own passes it through bound(). */
  beforeEach(this: Mocha.Context): void {
    const test = this.currentTest;
    if (test && test.timeout() > 0) test.timeout(bound(test.timeout()));
  },
  /** A test that ran out of time says that its bound was scaled, and by how much. */
  afterEach(this: Mocha.Context): void {
    const test = this.currentTest as (Mocha.Test & { err?: Error }) | undefined;
    if (test?.state === 'failed' && test.err && /^Timeout of \d+ms exceeded/.test(test.err.message)) {
      test.err.message = `${test.err.message.replace(/\.(?= For async)/, '')} (the test's own bound, scaled by the suite's speed factor ${speedFactor().toFixed(2)}; MNKVM_TEST_SPEED=F sets the factor).`;
    }
  },
};
