// Small process helpers shared by the engine: run a command, identify a
// process by (pid, start time) so that a recycled pid is never killed.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MnkvmError } from './errors.js';

export interface RunResult { stdout: string; stderr: string; code: number }

/** Run a command without a shell; resolves with its output and exit code. */
export function run(cmd: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ stdout, stderr: stderr || (err && !stderr ? err.message : ''), code });
    });
    // a command that ends before reading its input (nsenter into a namespace
    // that is gone) must fail as itself, not as an EPIPE that kills mnkvm
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** What runs a command: run() here, or a Machine's run() (machine.ts) on a server. */
export type Runner = (cmd: string, args: string[], input?: string) => Promise<RunResult>;

/** Like run() (or on's), but rejects with the command's stderr when it fails. */
export async function runOk(cmd: string, args: string[], input?: string, on: Runner = run): Promise<string> {
  const r = await on(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

/** Pin every thread of process pid (a guest's vCPUs and I/O) to cores; what for: the guest's name, for the error. */
export async function pinThreads(what: string, pid: number, cores: number[], on: Runner = run): Promise<void> {
  const r = await on('taskset', ['--all-tasks', '--pid', '--cpu-list', cores.join(','), String(pid)]);
  if (r.code !== 0) throw new MnkvmError(`${what}: cannot pin to cores ${cores.join(',')} (${r.stderr.trim().split('\n').at(-1)})`);
}

/** Run a batch of `ip` or `tc` commands inside the network namespace of pid. */
export function nsBatch(pid: number, tool: 'ip' | 'tc', lines: string[], on: Runner = run): Promise<string> {
  return runOk('nsenter', ['-t', String(pid), '-n', tool, '-batch', '-'], lines.join('\n') + '\n', on);
}

/** The kernel's start time of a process (field 22 of /proc/PID/stat), or null if it is gone. */
export function startTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited: nothing is left to stop.
    return fields[0] === 'Z' ? null : Number(fields[19]);
  } catch {
    return null;
  }
}

/** A process we started, named by pid and start time. */
export interface ProcessId { pid: number; start: number }

export function processId(pid: number): ProcessId {
  const start = startTime(pid);
  if (start === null) throw new Error(`process ${pid} is gone`);
  return { pid, start };
}

export function isAlive(p: ProcessId): boolean {
  return startTime(p.pid) === p.start;
}

/** Signal a process (or its process group) only if it is still the one we recorded. */
export function killIfSame(p: ProcessId, signal: NodeJS.Signals, group = false): boolean {
  if (!isAlive(p)) return false;
  try {
    process.kill(group ? -p.pid : p.pid, signal);
    return true;
  } catch {
    return false;
  }
}

export async function waitGone(p: ProcessId, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (isAlive(p)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
