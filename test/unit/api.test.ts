// The TypeScript API's parts that need no network: Topo as Mininet's Topo works (the same calls in
// Python give the same ports, keys and links, and mnkvm.api builds Python's from TypeScript's), the
// objects results are made into, errors by kind, progress events' kinds, and Docker's options as
// Containernet's module lists them. Milliseconds, plus a Python or two.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  Controller, DOCKER_PARAM_NAMES, Docker, ERROR_KINDS, Host, Intf, isMnkvmError, Link, MininetError, Mininet, MnkvmError, Node, Switch,
  TCIntf, Topo, type ProgressEvent,
} from '../../src/api/index.js';
import { fromRecord } from '../../src/api/errors.js';
import { Objects } from '../../src/api/nodes.js';
import { toJson, type Remote } from '../../src/api/remote.js';
import { MININET_EXT, PROJECT_ROOT } from '../../src/engine/paths.js';

/** Run a Python program (Debian's, with mininet-ext on its path); its stdout as JSON. */
function python(program: string, ...args: string[]): unknown {
  const r = spawnSync('/usr/bin/python3', ['-c', `import sys; sys.path.insert( 0, ${JSON.stringify(MININET_EXT)} )\n${program}`, ...args],
    { encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout);
}

/** A topology's calls: addHost, addSwitch, addLink with the ports and keys the calls give or leave out. */
type Call = ['addHost' | 'addSwitch', string] | ['addLink', string, string, { port1?: number; port2?: number; key?: number }];
const CALLS: Call[] = [
  ['addSwitch', 's10'], ['addSwitch', 's2'], ['addHost', 'h10'], ['addHost', 'h2'], ['addHost', 'h1'],
  ['addLink', 'h2', 's2', {}], ['addLink', 'h10', 's2', {}], ['addLink', 'h1', 's10', { port2: 7 }], ['addLink', 's10', 's2', {}],
  ['addLink', 's2', 's10', {}], ['addLink', 'h1', 's2', { key: 9 }],
];

function tsTopo(): Topo {
  const topo = new Topo();
  for (const call of CALLS) {
    if (call[0] === 'addLink') topo.addLink(call[1], call[2], call[3]);
    else topo[call[0]](call[1]);
  }
  return topo;
}

/** What a topology says of itself, in the same shape on both sides. */
const VIEW = `
def view( t ):
    return dict( nodes=t.nodes(), unsorted=list( t.nodes( sort=False ) ), hosts=t.hosts(), switches=t.switches(),
                 links=[ list( l[ :3 ] ) + [ l[ 3 ][ 'port1' ], l[ 3 ][ 'port2' ] ]
                         for l in t.links( sort=True, withKeys=True, withInfo=True ) ],
                 unsortedLinks=[ list( l ) for l in t.links() ],
                 port=[ list( p ) for p in t.port( 's2', 's10' ) ], info=t.linkInfo( 'h1', 's10' )[ 'port2' ] )
`;

describe('the TypeScript API without a network', function () {
  it("builds a Topo as Mininet's Topo does: names in natural order, ports, keys, links in Mininet's order", () => {
    const topo = tsTopo();
    const mine = {
      nodes: topo.nodes(), unsorted: topo.nodes(false), hosts: topo.hosts(), switches: topo.switches(),
      links: topo.links(true, true, true).map(([a, b, k, info]) => [a, b, k, info.port1, info.port2]),
      unsortedLinks: topo.links(), port: topo.port('s2', 's10'), info: topo.linkInfo('h1', 's10').port2,
    };
    const mininet = python(`import json\nfrom mininet.topo import Topo\n${VIEW}
t = Topo()
for call in json.loads( sys.argv[ 1 ] ):
    getattr( t, call[ 0 ] )( *call[ 1:3 ], **( call[ 3 ] if len( call ) > 3 else {} ) )
print( json.dumps( view( t ) ) )`, JSON.stringify(CALLS));
    expect(mine).to.deep.equal(mininet);
    expect(mine.nodes).to.deep.equal(['h1', 'h2', 'h10', 's2', 's10']);
    // mnkvm.api makes Python's Topo of what TypeScript's gives: the same topology
    expect(python(`import json\nfrom mnkvm.api import topology\n${VIEW}\nprint( json.dumps( view( topology( json.loads( sys.argv[ 1 ] ) ) ) ) )`,
      JSON.stringify(topo.toJSON()))).to.deep.equal(mininet);
  });

  it('says in one line that a link needs its nodes first', () => {
    const topo = new Topo();
    topo.addHost('h1');
    expect(() => topo.addLink('h1', 's1')).to.throw(MnkvmError, 'no node named s1 in this topology: add it first (addHost, addSwitch)');
  });

  it('builds a subclass as Mininet does, its parameters given to build()', () => {
    class LinearTopo extends Topo<[k: number]> {
      override build(k: number): void {
        let last: string | null = null;
        for (let i = 1; i <= k; i++) {
          const s = this.addSwitch(`s${i}`);
          this.addLink(this.addHost(`h${i}`), s);
          if (last) this.addLink(s, last);
          last = s;
        }
      }
    }
    const topo = new LinearTopo(3);
    expect(topo.links(true)).to.deep.equal([['h1', 's1'], ['h2', 's2'], ['h3', 's3'], ['s2', 's1'], ['s3', 's2']]);
  });

  it('makes objects of what Python describes: one per node, of its role; interfaces and links with their nodes', () => {
    const objects = new Objects({} as Remote);
    const node = (name: string, role: string, cls: string) => ({ $node: { name, role, cls } });
    const intf = (name: string, of: object, tc = false) => ({ name, node: (of as { $node: object }).$node, cls: tc ? 'TCIntf' : 'Intf', tc });
    const [h1, s1, c0, d1] = objects.decode<Node[]>(JSON.stringify([
      node('h1', 'host', 'KVMHost'), node('s1', 'switch', 'LinuxBridge'), node('c0', 'controller', 'Controller'), node('d1', 'docker', 'Docker')]));
    expect([h1, s1, c0, d1].map((n) => n!.constructor)).to.deep.equal([Host, Switch, Controller, Docker]);
    expect(objects.decode(JSON.stringify(node('h1', 'host', 'KVMHost')))).to.equal(h1);
    const link = objects.decode<Link>(JSON.stringify({ $link: { cls: 'TCLink', intf1: intf('h1-eth0', node('h1', 'host', 'KVMHost'), true),
      intf2: intf('s1-eth1', node('s1', 'switch', 'LinuxBridge'), true) } }));
    expect(link.intf1).to.be.instanceOf(TCIntf).and.to.be.instanceOf(Intf);
    expect([link.intf1.node, link.intf2.node, String(link), link.pythonClass]).to.deep.equal([h1, s1, 'h1-eth0<->s1-eth1', 'TCLink']);
    // they cross back as references Python resolves by name
    expect(JSON.parse(toJson({ args: [h1, link.intf2, link, 'h2'], kwargs: { intf: undefined } }))).to.deep.equal({
      args: [{ $node: 'h1' }, { $intf: ['s1', 's1-eth1'] }, { $link: ['h1', 'h1-eth0'] }, 'h2'], kwargs: {} });
    // a name that stands for another node now (deleted, then added again) gets a new object
    expect(objects.decode(JSON.stringify(node('h1', 'host', 'Host')))).to.not.equal(h1);
  });

  it('gives every error a kind to branch on, its details typed by the kind', () => {
    expect(ERROR_KINDS).to.deep.equal(['usage', 'clash', 'guest', 'mininet', 'internal']);
    const mininet = fromRecord({ kind: 'mininet', message: "'nope'", details: { pythonType: 'KeyError', traceback: 'Traceback ...' } });
    expect(mininet).to.be.instanceOf(MininetError);
    expect((mininet as MininetError).pythonType).to.equal('KeyError');
    const seen: string[] = [];
    for (const kind of ERROR_KINDS) {
      const e: unknown = kind === 'mininet' ? mininet : fromRecord({ kind, message: kind, details: kind === 'guest' ? { host: 'h1', console: ['x'] } : {} });
      expect(isMnkvmError(e)).to.equal(true);
      expect(isMnkvmError(e, kind)).to.equal(true);
      if (!isMnkvmError(e)) continue;
      // (each case sees its kind's details: the compiler checks the fields)
      switch (e.kind) {
        case 'guest': seen.push(`guest ${e.details.host} ${e.details.console.join()}`); break;
        case 'mininet': seen.push(`mininet ${e.details.pythonType}`); break;
        case 'clash': seen.push(`clash ${e.details.name ?? '-'}`); break;
        case 'usage': case 'internal': seen.push(e.kind); break;
      }
    }
    expect(seen).to.deep.equal(['usage', 'clash -', 'guest h1 x', 'mininet KeyError', 'internal']);
    expect(isMnkvmError(new Error('x'))).to.equal(false);
    expect(isMnkvmError(new MnkvmError('x'), 'clash')).to.equal(false);
  });

  it('types progress events by kind: Mininet\'s log, notices, and the engine\'s milestones', () => {
    const kinds: Record<ProgressEvent['kind'], true> = { log: true, notice: true, hostBooting: true, hostBooted: true, templateMade: true, imageImported: true };
    const describe = (e: ProgressEvent): string => {
      switch (e.kind) {
        case 'log': return e.text;
        case 'notice': return e.line;
        case 'hostBooting': return `${e.host} booting (${e.hosts})`;
        case 'hostBooted': return `${e.host}: ${e.booted} of ${e.hosts}`;
        case 'templateMade': return `template for ${e.image}`;
        case 'imageImported': return `${e.dimage} from ${e.source}`;
      }
    };
    expect(Object.keys(kinds)).to.have.length(6);
    expect(describe({ kind: 'hostBooted', host: 'h3', booted: 2, hosts: 3, seconds: 1 })).to.equal('h3: 2 of 3');
  });

  it("hands Mininet's log to the program through the bridge, as events, whatever stderr shows (logLevel)", () => {
    // (a process of its own: pythonia, once ended, does not start again in a process, and the suite's network needs it)
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'test', 'programs', 'progress.js')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr, "logLevel 'error': Mininet's info and output lines are not printed").to.not.contain('Adding hosts');
    expect(JSON.parse(r.stdout)).to.deep.equal([
      { kind: 'log', level: 'info', text: '*** Adding hosts:\n' }, { kind: 'log', level: 'output', text: 'h1 ' },
      { kind: 'notice', level: 'warn', line: '*** mnkvm: a notice' }]);
  });

  it("takes Containernet's Docker options, each one Containernet's module lists", () => {
    const options = python('import json\nfrom mnkvm.containernet.options import OPTIONS\nprint( json.dumps( sorted( OPTIONS ) ) )');
    expect([...DOCKER_PARAM_NAMES].sort()).to.deep.equal(options);
  });

  it('makes random MACs as Mininet does: unicast, locally administered', () => {
    for (let i = 0; i < 20; i++) {
      const mac = Mininet.randMac();
      expect(mac).to.match(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      const first = Number.parseInt(mac.slice(0, 2), 16);
      expect([first & 1, first & 2]).to.deep.equal([0, 2]);
    }
  });
});
