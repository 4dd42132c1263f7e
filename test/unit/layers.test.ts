// The folders of src/ are layers: no import runs back up (engine at the
// bottom, then sriov and cluster, bridge, api, bench, testbed, cli). No VMs: milliseconds.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../../src/engine/paths.js';

const MAY_IMPORT: Record<string, string[]> = {
  engine: ['engine'],
  sriov: ['sriov', 'engine'],
  cluster: ['cluster', 'engine'],
  bridge: ['bridge', 'sriov', 'cluster', 'engine'],
  api: ['api', 'bridge', 'engine'],
  bench: ['bench', 'api', 'bridge', 'engine'],   // (bench bridge measures the API)
  testbed: ['testbed', 'cluster', 'bridge', 'engine'],
  cli: ['cli', 'api', 'bench', 'testbed', 'sriov', 'cluster', 'bridge', 'engine'],   // (a server's record keeper makes SR-IOV links there)
};

describe('layers of src/', function () {
  it('no import runs back up the layers', () => {
    const wrong: string[] = [];
    for (const [layer, allowed] of Object.entries(MAY_IMPORT)) {
      const dir = join(PROJECT_ROOT, 'src', layer);
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
        const text = readFileSync(join(dir, file), 'utf8');
        for (const [, target] of text.matchAll(/from '\.\.\/(\w+)\//g)) {
          if (!allowed.includes(target)) wrong.push(`src/${layer}/${file} imports src/${target}`);
        }
      }
    }
    expect(wrong).to.deep.equal([]);
  });
});
