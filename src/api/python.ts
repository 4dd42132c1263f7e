// mnkvm.api (mininet-ext/mnkvm/api.py) as TypeScript sees it: the functions
// the API calls, their arguments and results. A trailing $ is pythonia's
// way to pass call options: here, no time limit (a network's start or a
// ping takes as long as it takes).
import type { PythonRef } from '../bridge/bridge.js';

export interface NoLimit { $timeout: number }
export const NO_LIMIT: NoLimit = { $timeout: Infinity };

/** A Mininet network object, held in Python. */
export type NetRef = PythonRef;
/** A process a host's popen() started (api.py's Process), held in Python. */
export type ProcessRef = PythonRef;
/** An iterator of JSON texts (Mininet's monitor()), held in Python. */
export type IteratorRef = PythonRef;

export interface ApiModule {
  /** Build a network, not started (spec: api.py's build()); progress.event() gets each log event as JSON. */
  build$(specJson: string, progress: { event(eventJson: string): void }, limit: NoLimit): Promise<NetRef>;
  stop$(net: NetRef, limit: NoLimit): Promise<void>;
  /** Mininet's method on the object target names (null: the network); args: { args, kwargs }; the result as JSON. */
  call$(net: NetRef, targetJson: string, method: string, argsJson: string, limit: NoLimit): Promise<string>;
  /** Mininet's get(*names): a node, or a list of them (JSON). */
  nodes(net: NetRef, namesJson: string): Promise<string>;
  /** An attribute of the object target names (null: the network), as JSON. */
  attribute(net: NetRef, targetJson: string, name: string): Promise<string>;
  cmd$(net: NetRef, name: string, argsJson: string, limit: NoLimit): Promise<string>;
  /** addHost, addSwitch, addController, addNAT or addDocker; the node made (JSON). */
  add$(net: NetRef, method: string, name: string, optsJson: string, limit: NoLimit): Promise<string>;
  addLink$(net: NetRef, node1: string, node2: string, optsJson: string, limit: NoLimit): Promise<string>;
  delLinkBetween$(net: NetRef, node1: string, node2: string, index: number, allLinks: boolean, limit: NoLimit): Promise<string>;
  monitor$(net: NetRef, hostsJson: string, timeoutms: number, limit: NoLimit): Promise<IteratorRef>;
  cli$(net: NetRef, script: string | null, limit: NoLimit): Promise<void>;
  popen$(net: NetRef, name: string, argsJson: string, limit: NoLimit): Promise<ProcessRef>;
  readline$(process: ProcessRef, limit: NoLimit): Promise<string | null>;
  wait$(process: ProcessRef, limit: NoLimit): Promise<number>;
  sendSignal(process: ProcessRef, name: string): Promise<void>;
  following$(iterator: IteratorRef, limit: NoLimit): Promise<string | null>;
  pmonitor$(timeoutms: number, ...processesThenLimit: (ProcessRef | NoLimit)[]): Promise<IteratorRef>;
  timeCmd$(net: NetRef, name: string, calls: number, limit: NoLimit): Promise<number>;
  /** The record (JSON) of the last exception one of the above raised, once; 'null' if none. */
  lastError(): Promise<string>;
}
