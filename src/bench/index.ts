// The benchmark's result files as a TypeScript program reads them (the
// package's `mnkvm/bench` entry): `mnkvm bench SCENARIO --out DIR` writes
// DIR/SCENARIO.json, a ScenarioReports[SCENARIO]; `mnkvm bench bridge --out
// DIR` writes DIR/bridge.json, a BridgeReport.
import type { Fingerprint } from './fingerprint.js';
import type { BridgeResult } from './bridge.js';
import type { BenchReport, LatencyRun, LatencySummary, StartupResult, ThroughputRun, ThroughputSummary } from './results.js';

export type { BenchReport, Flow, HostOptions, Kind, LatencyRun, LatencySummary, Scenario, StartupResult, ThroughputRun, ThroughputSummary, TimerRun, Where } from './results.js';
export type { TuneCheck, TuneItem, TuneState } from '../engine/tune/check.js';
export { KINDS, SCENARIOS } from './results.js';
export type { Fingerprint, BridgeResult };
export type { Spread } from './stats.js';

/** Each scenario's SCENARIO.json: its runs' raw figures and their summary (results). */
export interface ScenarioReports {
  startup: BenchReport<StartupResult, StartupResult>;
  latency: BenchReport<LatencyRun, LatencySummary>;
  throughput: BenchReport<ThroughputRun, ThroughputSummary>;
  /** The latency probe under load: latency's figures. */
  isolation: BenchReport<LatencyRun, LatencySummary>;
}

/** bridge.json: what the TypeScript API adds to a call, per host kind. */
export interface BridgeReport { benchmark: 'bridge'; environment: Fingerprint; results: BridgeResult[] }
