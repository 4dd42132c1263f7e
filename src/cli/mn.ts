// `mnkvm [mn options]`: mn, run in the bridged Python with KVM hosts registered.
import { PythonBridge } from '../bridge/bridge.js';
import { Engine } from '../engine/engine.js';
import { describe } from '../engine/records.js';
import { checkKvmHost, hostOption, requireRoot } from './checks.js';

const log = (line: string) => process.stderr.write(line + '\n');

/**
 * Run mn with argv. Whatever happens (an error, Ctrl-C, SIGTERM, Python dying),
 * the run's resource record is swept before this returns.
 */
export async function runMn(argv: string[]): Promise<number> {
  const wantsHelp = argv.some((a) => a === '-h' || a === '--help' || a === '--version');
  if (!wantsHelp) {
    requireRoot();
    const host = hostOption(argv);
    if (host?.split(',')[0] === 'kvm') checkKvmHost(host);
  }
  const engine = new Engine();
  let bridge: PythonBridge | undefined;
  // Ctrl-C reaches Python too (same process group): Mininet decides what it
  // means there; this process only has to live on to clean up.
  const onInt = () => undefined;
  const onTerm = () => bridge?.terminate();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onTerm);
  let code = 1;
  try {
    bridge = await PythonBridge.open(engine);
    const mn = await bridge.module('mnkvm.mn');
    const result = await bridge.call((t) => mn.main$(argv, t) as Promise<number>);
    code = typeof result === 'number' ? result : result.pythonExited;
  } finally {
    await bridge?.close();
    const removed = describe(await engine.shutdown());
    if (removed) log(`*** mnkvm: removed ${removed}`);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onTerm);
  }
  return code;
}
