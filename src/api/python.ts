// mnkvm.api (mininet-ext/mnkvm/api.py) as TypeScript sees it: the functions
// the API calls, their arguments and results. A trailing $ is pythonia's
// way to pass call options: here, no time limit (a network's start or a
// ping takes as long as it takes).
import type { PythonRef } from '../bridge/bridge.js';

export interface NoLimit { $timeout: number }
export const NO_LIMIT: NoLimit = { $timeout: Infinity };

/** A Mininet network object, held in Python. */
export type NetRef = PythonRef;
/** A generator of output lines, held in Python. */
export type LinesRef = PythonRef & AsyncIterable<string>;

export interface ApiModule {
  start$(specJson: string, limit: NoLimit): Promise<NetRef>;
  stop$(net: NetRef, limit: NoLimit): Promise<void>;
  hasNode(net: NetRef, name: string): Promise<boolean>;
  cmd$(net: NetRef, name: string, argsJson: string, limit: NoLimit): Promise<string>;
  ip(net: NetRef, name: string): Promise<string>;
  addHost$(net: NetRef, name: string, optsJson: string, limit: NoLimit): Promise<void>;
  addLink$(net: NetRef, a: string, b: string, optsJson: string, limit: NoLimit): Promise<string>;
  delLink$(net: NetRef, a: string, b: string, limit: NoLimit): Promise<void>;
  iperf$(net: NetRef, a: string, b: string, l4Type: string, seconds: number, limit: NoLimit): Promise<string>;
  ping$(net: NetRef, namesJson: string, timeout: number | null, limit: NoLimit): Promise<number>;
  popenLines$(net: NetRef, name: string, argvJson: string, limit: NoLimit): Promise<LinesRef>;
  timeCmd$(net: NetRef, name: string, calls: number, limit: NoLimit): Promise<number>;
  /** The record (JSON) of the last exception one of the above raised, once; 'null' if none. */
  lastError(): Promise<string>;
}
