// The folders of src/ are layers: no import runs back up (engine at the
// bottom, then sriov and cluster, bridge, testbed, api, bench, cli), and no
// import runs in a circle, between folders or inside one: each module can be
// read knowing only those below it. No VMs: milliseconds.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../../src/engine/paths.js';

const MAY_IMPORT: Record<string, string[]> = {
  engine: ['engine'],
  sriov: ['sriov', 'engine'],
  cluster: ['cluster', 'engine'],
  bridge: ['bridge', 'sriov', 'cluster', 'engine'],
  api: ['api', 'bridge', 'testbed', 'cluster', 'engine'],   // (a network over --servers: tb1 is a testbed server)
  bench: ['bench', 'api', 'bridge', 'engine'],   // (bench bridge measures the API)
  testbed: ['testbed', 'cluster', 'bridge', 'engine'],
  cli: ['cli', 'api', 'bench', 'testbed', 'sriov', 'cluster', 'bridge', 'engine'],   // (a server's record keeper makes SR-IOV links there)
};

const SRC = join(PROJECT_ROOT, 'src');

/** Every .ts file under dir, as a path relative to the project (src/engine/qemu/vm.ts). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [relative(PROJECT_ROOT, join(dir, e.name))] : []);
}

/** What each file of src/ imports from src/ (type-only imports too: they tie the modules as much), by path. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(join(PROJECT_ROOT, file), 'utf8');
    const targets = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)'(\.\.?\/[^']+)\.js'/g)]
      .map(([, path]) => join(dirname(file), `${path}.ts`));
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/** The circles of the graph: one for each set of files that import each other round, as a path back to its first file. */
function circles(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (stack.includes(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        component.push(member);
      } while (member !== file);
      const selfImport = (graph.get(file) ?? []).includes(file);
      if (component.length > 1 || selfImport) components.push(component.sort());
    }
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  // one circle through each component: the shortest way from its first file back to itself
  return components.map((component) => {
    const inside = new Set(component);
    const start = component[0]!;
    const from = new Map<string, string>();
    const queue = [start];
    while (queue.length) {
      const file = queue.shift()!;
      for (const next of graph.get(file) ?? []) {
        if (!inside.has(next)) continue;
        if (next === start) {
          const path = [file];
          while (path[0] !== start) path.unshift(from.get(path[0]!)!);
          return [...path, start];
        }
        if (!from.has(next)) {
          from.set(next, file);
          queue.push(next);
        }
      }
    }
    return component;
  });
}

describe('layers of src/', function () {
  const graph = importGraph();

  it('no import runs back up the layers', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const layer = file.split('/')[1]!;
      for (const target of targets) {
        const to = target.split('/')[1]!;
        if (!(MAY_IMPORT[layer] ?? []).includes(to)) wrong.push(`${file} imports src/${to}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('no import circle, between folders or inside one', () => {
    const found = circles(graph).map((circle) => `import circle: ${circle.join(' → ')}`);
    expect(found, found.join('\n')).to.deep.equal([]);
  });

  it('finds a circle, and names it', () => {
    const graph = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts', 'd.ts']], ['c.ts', ['a.ts']], ['d.ts', []], ['e.ts', ['e.ts']]]);
    expect(circles(graph)).to.deep.equal([['a.ts', 'b.ts', 'c.ts', 'a.ts'], ['e.ts', 'e.ts']]);
  });
});
