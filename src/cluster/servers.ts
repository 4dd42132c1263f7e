// The servers a topology spreads over (`--servers tb1,tb2` or
// `--servers root@10.0.0.2,root@10.0.0.3`), and how nodes are placed on
// them (`--placement`, Mininet's cluster edition's placers). Pure:
// unit-tested.
import { MnkvmError } from '../engine/errors.js';
import { ERRORS_ONLY, FRESH_HOST_KEY, SERVER_KEEPALIVE, sshConfigLines, UNATTENDED } from '../engine/ssh.js';

/** A server: how mnkvm reaches it over SSH, and its address on the network between servers (VXLAN tunnels). */
export interface ServerSpec {
  /** As the user named it: tb1, or user@host[:port]. */
  name: string;
  host: string;
  port: number;
  user: string;
  /** The private key to log in with; null: the user's own (~/.ssh/id_ed25519, id_rsa or the agent). */
  key: string | null;
  /** Its address on the data network: tunnels run between these (null: the one SSH reaches, found by preflight). */
  data: string | null;
  /** A virtual testbed server (mnkvm testbed up). */
  testbed: boolean;
}

/**
 * The placers of Mininet's cluster edition (mininet/examples/cluster.py),
 * by the name --placement takes: switchbin (the default: switches spread
 * evenly, hosts go with their switch), hostswitchbin (hosts spread evenly
 * too), roundrobin, random.
 */
export const PLACERS = ['switchbin', 'hostswitchbin', 'roundrobin', 'random'] as const;
export type Placer = (typeof PLACERS)[number];

/** --placement's value, checked. */
export function placer(name: string | undefined): Placer {
  const value = name ?? 'switchbin';
  if (!(PLACERS as readonly string[]).includes(value)) {
    throw new MnkvmError(`--placement ${value}: no such placer: give one of ${PLACERS.join(', ')}`);
  }
  return value as Placer;
}

const USER_HOST = /^(?:([a-z_][a-z0-9_.-]*)@)?([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/;

/**
 * --servers' list: each a virtual testbed server's name (testbed() answers
 * for those) or [user@]host[:port]; one line for a bad or repeated one.
 */
export function parseServers(list: string, testbed: (name: string) => ServerSpec | null): ServerSpec[] {
  const names = list.split(',').map((s) => s.trim());
  if (names.some((n) => !n)) throw new MnkvmError(`--servers ${list}: an empty server name: give names separated by commas, e.g. --servers tb1,tb2`);
  const seen = new Set<string>();
  return names.map((name) => {
    if (seen.has(name)) throw new MnkvmError(`--servers ${list}: ${name} is named twice: name each server once`);
    seen.add(name);
    if (/^tb\d+$/.test(name)) {
      const spec = testbed(name);
      if (!spec) throw new MnkvmError(`--servers: ${name} is no server of a virtual testbed that is up: start one with \`mnkvm testbed up\`, or give user@host`);
      return spec;
    }
    const m = USER_HOST.exec(name);
    const port = Number(m?.[3] ?? 22);
    if (!m || port < 1 || port > 65535) {
      throw new MnkvmError(`--servers: ${name} is neither a testbed server (tb1, tb2, ...) nor user@host[:port]: give one of those`);
    }
    return { name, host: m[2].replace(/^\[|\]$/g, ''), port, user: m[1] ?? 'root', key: null, data: null, testbed: false };
  });
}

/** The servers a run spreads over (--servers, --placement): none for this machine alone. */
export interface ClusterOptions { servers: ServerSpec[]; placement: Placer }

/** --servers and --placement, resolved (testbed: a testbed server by name), or undefined without --servers. */
export function clusterOptions(servers: string | undefined, placement: string | undefined,
  testbed: (name: string) => ServerSpec | null): ClusterOptions | undefined {
  if (servers === undefined) {
    if (placement !== undefined) throw new MnkvmError('--placement places nodes on the servers --servers names: give --servers too');
    return undefined;
  }
  return { placement: placer(placement), servers: parseServers(servers, testbed) };
}

/** The alias a server has in the run's ssh_config (Mininet's ssh reaches it by that name). */
export function sshAlias(spec: ServerSpec): string {
  return `mnkvm-${spec.name.replace(/[^A-Za-z0-9.-]/g, '-')}`;
}

/**
 * An ssh_config for Mininet's cluster edition (its node shells run over
 * `ssh ALIAS`): one connection per server, that the node shells share
 * (ControlMaster, no ControlPersist: the connection ends with the last
 * shell, no process is left behind).
 */
export function sshConfig(specs: ServerSpec[], controlDir: string): string {
  return specs.map((s) => [
    `Host ${sshAlias(s)}`,
    `  HostName ${s.host}`,
    `  Port ${s.port}`,
    `  User ${s.user}`,
    ...(s.key ? [`  IdentityFile ${s.key}`, '  IdentitiesOnly yes'] : []),
    ...sshConfigLines({ ...(s.testbed ? FRESH_HOST_KEY : {}), ...ERRORS_ONLY, ...UNATTENDED, ...SERVER_KEEPALIVE }),
    '  ControlMaster auto',
    `  ControlPath ${controlDir}/ssh-%C`,
    '',
  ].join('\n')).join('\n');
}
