// QemuBackend: guests as QEMU processes on this machine, in their KVM
// host's network namespace, started as clones of a snapshot template
// (template.ts) or booted cold.
import { ensureTemplate, templateFor, type Template } from './template.js';
import type { VmSpec } from './args.js';
import { QemuVm } from './vm.js';
import { bootTimedOut, guestFailed, type Guest, type GuestSpec, type Notice, type VmBackend } from '../backend.js';
import { localAccel } from '../guest/accel.js';
import type { RunRecord } from '../records.js';
import type { ProgressListener } from '../progress.js';

export class QemuBackend implements VmBackend {
  /** One template per run and what it is made for (templateFor); null where snapshots cannot work. */
  private readonly templates = new Map<string, Promise<Template | null>>();

  constructor(private readonly record: RunRecord, private readonly notice: (line: string, level?: Notice['level']) => void,
    private readonly progress: ProgressListener = () => undefined) {}

  async start(guest: GuestSpec): Promise<Guest> {
    const { accel, notice } = localAccel(guest.accel);
    if (notice) this.notice(notice);
    const spec = { ...guest, accel };
    // A tuned guest's memory is its own, preallocated on hugepages: a clone
    // would map the template's file and copy each page as it is written
    // (docs/latency-tuning.md, "Clones and hugepages").
    if (guest.layout && guest.boot === 'clone') this.notice('*** mnkvm: tune=latency hosts boot cold (their memory is on hugepages of their own, not a template\'s)');
    const template = guest.boot === 'clone' && !guest.layout ? await this.template(spec) : null;
    const vm = await QemuVm.start({ ...spec, boot: template ? template.boot : { kind: 'cold' } }, this.record);
    try {
      await vm.resume();
      // a clone's init said it was ready in its template
      if (!template && !(await vm.waitReady(spec.bootTimeout * 1000))) {
        throw new Error(vm.alive() ? bootTimedOut(spec.bootTimeout) : 'stopped while booting');
      }
    } catch (e) {
      throw await guestFailed(vm, (e as Error).message);
    }
    return vm;
  }

  /** The snapshot template for spec, made once per run and key; null (with one notice) where snapshots cannot work. */
  private template({ image, mem, cpus, accel, share, bootTimeout }: Omit<VmSpec, 'boot' | 'nsPid'>): Promise<Template | null> {
    const options = { mem, cpus, accel, share, bootTimeout };
    const id = templateFor(image, options);
    let template = this.templates.get(id);
    if (!template) {
      const started = Date.now();
      template = ensureTemplate(image, options, this.record).then((made) => {
        if (made.made) this.progress({ kind: 'templateMade', image: image.name, seconds: (Date.now() - started) / 1000 });
        return made;
      }, (e: Error) => {
        this.notice(`*** mnkvm: snapshot clones unavailable (${e.message.split('\n')[0]}): KVM hosts boot cold`, 'warn');
        return null;
      });
      this.templates.set(id, template);
    }
    return template;
  }
}
