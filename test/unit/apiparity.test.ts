// The TypeScript API at parity with Mininet's Python API: docs/typescript.md's table has a row for
// every public method of Mininet's classes, as Debian's mininet has them (listed here with Python's
// inspect: a method upstream adds is a failing row), each with its TypeScript method, which exists, or
// why it is left out; and the counts above the table are the rows'. No network: a second or so.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Controller, Host, Intf, Link, Mininet, Node, Switch, TCIntf, Topo } from '../../src/api/index.js';
import { PROJECT_ROOT } from '../../src/engine/paths.js';

/** Mininet's classes, each with the class whose methods its rows leave out (a subclass's rows are those it adds). */
const CLASSES = { Mininet: null, Node: null, Host: 'Node', Switch: 'Node', Controller: 'Node', Link: null, Intf: null, TCIntf: 'Intf', Topo: null } as const;
type ClassName = keyof typeof CLASSES;

const TS_CLASSES: Record<ClassName, { prototype: object }> = { Mininet, Node, Host, Switch, Controller, Link, Intf, TCIntf, Topo };

/** Each class's public methods (callable, no leading _), as Python's inspect lists them. */
function mininetMethods(): Record<ClassName, string[]> {
  const script = [
    'import inspect, json',
    'from mininet.net import Mininet',
    'from mininet.node import Node, Host, Switch, Controller',
    'from mininet.link import Link, Intf, TCIntf',
    'from mininet.topo import Topo',
    'print( json.dumps( { c.__name__: sorted( n for n, v in inspect.getmembers( c ) if not n.startswith( "_" ) and callable( v ) )',
    '                     for c in ( Mininet, Node, Host, Switch, Controller, Link, Intf, TCIntf, Topo ) } ) )',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as Record<ClassName, string[]>;
}

/** The rows each class has in the table: every method, less its base class's. */
function expectedRows(methods: Record<ClassName, string[]>): string[] {
  return (Object.keys(CLASSES) as ClassName[]).flatMap((cls) => {
    const base = CLASSES[cls];
    return methods[cls].filter((m) => base === null || !methods[base].includes(m)).map((m) => `${cls}.${m}`);
  });
}

interface Row { mininet: string; typescript: string | null; note: string }

const PAGE = readFileSync(join(PROJECT_ROOT, 'docs', 'typescript.md'), 'utf8');

/** The parity table's rows: | `Class.method` | `Class.method` or — | note |. */
function tableRows(): Row[] {
  return [...PAGE.matchAll(/^\| `(\w+\.\w+)` \| (`\w+\.\w+`|—) \| (.*?) ?\|$/gm)]
    .map(([, mininet, ts, note]) => ({ mininet: mininet!, typescript: ts === '—' ? null : ts!.slice(1, -1), note: note!.trim() }));
}

describe("the TypeScript API at parity with Mininet's (docs/typescript.md's table)", function () {
  const methods = mininetMethods();
  const rows = tableRows();

  it("has a row for each of Mininet's public methods, and none for a method Mininet has not", () => {
    const documented = rows.map((r) => r.mininet);
    const expected = expectedRows(methods);
    expect(documented.filter((m) => !expected.includes(m)), 'rows for methods Mininet has not').to.deep.equal([]);
    expect(expected.filter((m) => !documented.includes(m)), "Mininet's methods without a row").to.deep.equal([]);
    expect(documented).to.have.length(new Set(documented).size);
  });

  it('names a TypeScript method of the same class that exists, or says why none', () => {
    const wrong: string[] = [];
    for (const row of rows) {
      if (row.typescript === null) {
        if (row.note.length < 10) wrong.push(`${row.mininet}: left out without a reason`);
        continue;
      }
      const [cls, method] = row.typescript.split('.') as [ClassName, string];
      if (cls !== row.mininet.split('.')[0]) wrong.push(`${row.mininet}: ${row.typescript} is another class's`);
      // (an instance method, or a static one: Mininet.randMac, Topo.sorted)
      const tsClass = TS_CLASSES[cls] as unknown as Record<string, unknown> & { prototype: Record<string, unknown> };
      if (typeof tsClass.prototype[method] !== 'function' && typeof tsClass[method] !== 'function') {
        wrong.push(`${row.mininet}: ${row.typescript} does not exist`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it("keeps Mininet's class tree, so a subclass has its base's methods", () => {
    for (const cls of [Host, Switch, Controller]) expect(cls.prototype).to.be.instanceOf(Node);
    expect(TCIntf.prototype).to.be.instanceOf(Intf);
  });

  it('counts the rows as they are, above the table', () => {
    const counts = Object.fromEntries([...PAGE.matchAll(/^\| `(\w+)` \| (\d+)[^|]*\| (\d*) \| (\d*) \|$/gm)]
      .map(([, cls, all, covered, left]) => [cls, [Number(all), Number(covered || 0), Number(left || 0)]]));
    const total = [0, 0, 0];
    for (const cls of Object.keys(CLASSES)) {
      const own = rows.filter((r) => r.mininet.startsWith(`${cls}.`));
      const row = [own.length, own.filter((r) => r.typescript).length, own.filter((r) => !r.typescript).length];
      expect(counts[cls], cls).to.deep.equal(row);
      row.forEach((n, i) => { total[i]! += n; });
    }
    const all = /^\| all \| (\d+) \| (\d+) \| (\d+) \|$/m.exec(PAGE);
    expect(all?.slice(1).map(Number)).to.deep.equal(total);
  });
});
