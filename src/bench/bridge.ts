// `mnkvm bench bridge`: what the TypeScript API adds to a call. host.cmd('true')
// is timed from TypeScript (through the bridge) and from Python inside the
// bridge, for a namespace host and a KVM host of one network.
import { Mininet, Topo } from '../api/index.js';
import { table } from './results.js';

export interface BridgeResult { kind: 'namespace' | 'kvm'; calls: number; apiMs: number; pythonMs: number; overheadMs: number }

export async function benchBridge(calls: number): Promise<BridgeResult[]> {
  const topo = new Topo();
  topo.addLink(topo.addHost('h1', { kind: 'namespace' }), topo.addSwitch('s1'));
  topo.addLink(topo.addHost('h2', { kind: 'kvm' }), 's1');
  await using net = await Mininet.start({ topo });
  const results: BridgeResult[] = [];
  for (const [name, kind] of [['h1', 'namespace'], ['h2', 'kvm']] as const) {
    const host = await net.get(name);
    for (let i = 0; i < 20; i++) await host.cmd('true');   // warm-up
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await host.cmd('true');
    const apiMs = Number(process.hrtime.bigint() - start) / 1e6 / calls;
    const pythonMs = (await net.timeCmd(name, calls)) * 1000;
    results.push({ kind, calls, apiMs, pythonMs, overheadMs: apiMs - pythonMs });
  }
  return results;
}

export function bridgeTable(results: BridgeResult[]): string {
  return table(['host', 'calls', 'via TypeScript API (ms/call)', 'in Python (ms/call)', 'API overhead (ms/call)'],
    results.map((r) => [r.kind, String(r.calls), r.apiMs.toFixed(3), r.pythonMs.toFixed(3), r.overheadMs.toFixed(3)]));
}
