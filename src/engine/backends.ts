// The backend each KVM host's options name (`backend=qemu|libvirt`,
// `uri=`): one of each kind (and libvirt connection: one per server a host
// runs on) per run, made when a host first needs it, so that one network
// can mix them.
import type { Guest, GuestSpec, Notice, VmBackend } from './backend.js';
import type { ProgressListener } from './progress.js';
import { LibvirtBackend } from './libvirt/backend.js';
import { QemuBackend } from './qemu/backend.js';
import type { RunRecord } from './records.js';

export class BackendByOption implements VmBackend {
  private readonly made = new Map<string, VmBackend>();

  constructor(private readonly record: RunRecord, private readonly notice: (line: string, level?: Notice['level']) => void,
    private readonly progress: ProgressListener = () => undefined) {}

  start(spec: GuestSpec): Promise<Guest> {
    const key = spec.backend === 'libvirt' ? `libvirt ${spec.uri} ${spec.machine.server ?? ''}` : 'qemu';
    let backend = this.made.get(key);
    if (!backend) {
      backend = spec.backend === 'libvirt' ? new LibvirtBackend(spec.uri, spec.machine, this.record, this.notice) : new QemuBackend(this.record, this.notice, this.progress);
      this.made.set(key, backend);
    }
    return backend.start(spec);
  }
}
