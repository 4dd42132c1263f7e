// Progress of long work (a network's build and start, KVM hosts booting,
// snapshot templates, images imported) as typed events, so that a program
// can show its own progress bar: the lines the CLI prints (Mininet's log and
// mnkvm's notices) and the engine's milestones.
import type { EngineProgress } from '../engine/progress.js';

export type { EngineProgress };

/** Mininet's log levels (mininet.log's LEVELS, setLogLevel's names). */
export type LogLevel = 'debug' | 'info' | 'output' | 'warning' | 'error' | 'critical';

/**
 * A piece of Mininet's log, as mn prints it: `*** Adding hosts:\n`, `h1 `,
 * `h2 `, ... (Mininet writes some lines in pieces; `text` is each piece,
 * newline included where Mininet wrote one), from level info up, whatever
 * Mininet.start's logLevel prints on stderr.
 */
export interface LogEvent { kind: 'log'; level: Exclude<LogLevel, 'debug'>; text: string }

/** A line of mnkvm's for the user (`*** mnkvm: guests run under TCG ...`): a notice of the engine, or a server's check with servers. */
export interface NoticeEvent { kind: 'notice'; level: 'info' | 'warn'; line: string }

/**
 * What a network reports as it goes (Mininet.start's onProgress, net.on('progress')).
 * `log` and `notice` together are what `mnkvm` prints; the others are the
 * engine's milestones (EngineProgress): hostBooting and hostBooted (hosts
 * booting N of M), templateMade, imageImported.
 */
export type ProgressEvent = LogEvent | NoticeEvent | EngineProgress;

/** Takes a network's progress events; what it throws is reported as a process warning, and the network's work goes on. */
export type ProgressListener = (event: ProgressEvent) => void;
