// `mnkvm tune check [--servers A,B] [--json]`: the real-time checklist
// (engine/tune/check.ts) of this machine, or of each server as the mnkvm
// there reads it (over the SSH helpers runs use). A report: it exits 0 with
// items missing, 1 only where a server could not be checked.
import { Command } from 'commander';
import { ServerConnection } from '../cluster/connection.js';
import { parseServers, type ServerSpec } from '../cluster/servers.js';
import { MnkvmError } from '../engine/errors.js';
import type { RunResult } from '../engine/proc.js';
import { parseTuneCheck, tuneCheck, tuneLines, type TuneCheck } from '../engine/tune/check.js';

/** The command run on each server (the mnkvm the ansible mnkvm role put on its PATH). */
export const SERVER_TUNE_CHECK = 'mnkvm tune check --json';

/** A server's checklist (where: the server as --servers names it), or the one line why there is none. */
export type ServerTuneCheck = TuneCheck | { where: string; error: string };

/** What `mnkvm tune check --json` answered on a server, as its checklist; one line where it did not answer one. */
export function serverTuneCheck(server: string, r: RunResult): TuneCheck {
  const update = 'update mnkvm there (ansible-playbook -i INVENTORY site.yml)';
  if (r.code !== 0) {
    throw new MnkvmError(`${server}: \`${SERVER_TUNE_CHECK}\` failed there (${r.stderr.trim().split('\n').at(-1) || `exit ${r.code}`}): ${update}`);
  }
  try {
    return { ...parseTuneCheck(r.stdout), where: server };
  } catch (e) {
    throw new MnkvmError(`${server}: \`${SERVER_TUNE_CHECK}\` answered ${(e as Error).message}: ${update}`);
  }
}

/** Each server's lines under its name; a server without a checklist is its one line. */
export function serverLines(checks: ServerTuneCheck[]): string[] {
  return checks.flatMap((c) => ('error' in c ? [c.error] : [`${c.where}:`, ...tuneLines(c).map((l) => `  ${l}`)]));
}

/** One server's checklist over SSH, or its one line. */
async function checkServer(spec: ServerSpec): Promise<ServerTuneCheck> {
  let connection: ServerConnection | null = null;
  try {
    connection = await ServerConnection.open(spec);
    return serverTuneCheck(spec.name, await connection.run(SERVER_TUNE_CHECK));
  } catch (e) {
    const message = (e as Error).message.split('\n')[0];
    return { where: spec.name, error: message.startsWith(`${spec.name}:`) ? message : `${spec.name}: ${message}` };
  } finally {
    connection?.close();
  }
}

/** testbed: a virtual testbed server by name (tb1), as --servers reads it everywhere. */
export function tuneCommand(testbed: (name: string) => ServerSpec | null): Command {
  const tune = new Command('tune').description('measurement-grade KVM hosts (tune=latency): what a machine has for them');
  tune.command('check')
    .description("the real-time checklist of this machine (or each server): one line per item, ok / warn / missing and what to do; " +
      'a report: it exits 0 with items missing (docs/latency-tuning.md)')
    .option('--servers <list>', "each server's checklist instead (tb1,tb2 or user@host[:port],...), read by the mnkvm there over SSH")
    .option('--json', 'print the checklist as JSON ({ where, items: [{ name, state, found, fix }] }; with --servers, one per server)')
    .action(async (opts: { servers?: string; json?: boolean }) => {
      if (opts.servers === undefined) {
        const check = tuneCheck();
        process.stdout.write(opts.json ? `${JSON.stringify(check, null, 2)}\n` : `${tuneLines(check).join('\n')}\n`);
        return;
      }
      const checks = await Promise.all(parseServers(opts.servers, testbed).map(checkServer));
      process.stdout.write(opts.json ? `${JSON.stringify(checks, null, 2)}\n` : `${serverLines(checks).join('\n')}\n`);
      if (checks.some((c) => 'error' in c)) process.exitCode = 1;
    });
  return tune;
}
