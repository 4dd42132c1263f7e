// mnkvm's TypeScript API: Mininet networks whose hosts can be KVM virtual machines.
export { Mininet, Host, Popen, type StartOptions } from './mininet.js';
export { Topo, type HostOptions, type LinkOptions, type SwitchOptions } from './topo.js';
export { MnkvmError, MininetError } from './errors.js';
