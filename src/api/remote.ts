// A network's Python side, as the API's objects reach it (internal): each
// method is one call of mnkvm.api, which runs Mininet's own method by name on
// the network or on the node, interface or link an object stands for.
// Arguments and results cross as JSON; a node, interface or link crosses as a
// reference by name one way (Ref) and as a description the other
// ({ $node: NodeInfo }, ...), which src/api/nodes.ts makes its objects of.
import { py } from './errors.js';
import { NO_LIMIT, type ApiModule, type NetRef } from './python.js';

/** How Python finds a node, an interface (node, name) or a link (by one of its interfaces). */
export type Ref = { $node: string } | { $intf: [string, string] } | { $link: [string, string] };

/** The key under which an API object keeps its Ref. */
export const REF: unique symbol = Symbol('mnkvm.ref');

/** An object that stands for one of Python's (a Node, Intf or Link). */
export interface Referable { readonly [REF]: Ref }

/** What Python says a node is: the object TypeScript makes of it (role) and its Python class. */
export interface NodeInfo { name: string; role: 'host' | 'docker' | 'switch' | 'controller'; cls: string }
/** An interface: its node, its Python class (tc: a TCIntf). */
export interface IntfInfo { name: string; node: NodeInfo; cls: string; tc: boolean }
export interface LinkInfo { cls: string; intf1: IntfInfo; intf2: IntfInfo }

/** JSON of value, with the objects that stand for Python's as their Refs. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && REF in v ? (v as Referable)[REF] : v));
}

export class Remote {
  constructor(readonly api: ApiModule, readonly net: NetRef) {}

  /**
   * Mininet's method of target (null: the network) with args and kwargs
   * (a kwarg left undefined is left out: the method's default applies);
   * its result as JSON, what it holds described.
   */
  call(target: Referable | null, method: string, args: unknown[] = [], kwargs: object = {}): Promise<string> {
    return py(this.api, this.api.call$(this.net, toJson(target), method, toJson({ args, kwargs }), NO_LIMIT));
  }

  /** An attribute of target (null: the network) as JSON, what it holds described. */
  attribute(target: Referable | null, name: string): Promise<string> {
    return py(this.api, this.api.attribute(this.net, toJson(target), name));
  }

  /** A node's cmd(): the call a program makes most, kept to the least work. */
  cmd(name: string, args: (string | number)[]): Promise<string> {
    return py(this.api, this.api.cmd$(this.net, name, JSON.stringify(args), NO_LIMIT));
  }
}
