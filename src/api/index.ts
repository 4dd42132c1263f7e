// mnkvm's TypeScript API: Mininet networks whose hosts can be KVM virtual
// machines, with Mininet's objects and methods (docs/typescript.md) and
// mnkvm's own: KVM host options, SR-IOV links, servers, Docker hosts,
// progress events, typed errors. The benchmark's result files: `mnkvm/bench`.
export { Mininet, type NodeName, type PingResult, type StartOptions } from './mininet.js';
export { Controller, Docker, Host, Intf, Link, Node, Switch, TCIntf, type IntfName, type NodeConfig, type Word } from './nodes.js';
export { pmonitor, Popen } from './popen.js';
export { Topo, type AddLinkOptions, type LinkInfo, type LinkKey, type NodeInfo } from './topo.js';
export {
  DOCKER_PARAM_NAMES, type BaseLinkOptions, type ControllerOptions, type DefaultLinkOptions, type DockerOptions, type DockerParams,
  type HostOptions, type IntfParams, type LinkOptions, type NodeParams, type SRIOVLinkOptions, type SwitchOptions, type TCLinkOptions,
  type TCParams,
} from './params.js';
export type { EngineProgress, LogEvent, LogLevel, NoticeEvent, ProgressEvent, ProgressListener } from './progress.js';
export {
  ERROR_KINDS, isMnkvmError, MininetError, MnkvmError, type ErrorDetails, type ErrorKind, type ErrorRecord, type KindedError,
} from './errors.js';
export {
  KVM_HOST_OPTIONS, SRIOV_LINK_OPTIONS, type KvmHostOptions, type Option, type Options, type OptionValues, type ValueOf,
  type SriovLinkOptions as SriovLinkOptionValues,
} from '../engine/options.js';
export { PLACERS, type Placer } from '../cluster/servers.js';
