// Where mnkvm keeps state. Runtime state lives in /run (gone at reboot);
// built images live in the cache.
import { join } from 'node:path';

export const RUN_ROOT = process.env.MNKVM_RUN_DIR ?? '/run/mnkvm';
export const CACHE_ROOT = process.env.MNKVM_CACHE ?? '/var/cache/mnkvm';
export const IMAGES_DIR = join(CACHE_ROOT, 'images');
/** Snapshot templates: guest RAM files want memory (tmpfs), and are remade after a reboot. */
export const TEMPLATES_DIR = process.env.MNKVM_TEMPLATES ?? '/dev/shm/mnkvm/templates';
/** Whether KVM can run a guest: an answer per boot of the machine, kept in tmpfs beside the templates. */
export const KVM_PROBE = process.env.MNKVM_KVM_PROBE ?? '/dev/shm/mnkvm/kvm-probe.json';

/** The project's root folder (this file is dist/src/engine/paths.js once compiled). */
export const PROJECT_ROOT = new URL('../../../', import.meta.url).pathname;
export const MININET_EXT = join(PROJECT_ROOT, 'mininet-ext');
export const GUEST_BUILD = join(PROJECT_ROOT, 'guest', 'build-image.sh');
export const GUEST_IMPORT = join(PROJECT_ROOT, 'guest', 'import-image.sh');
export const GUEST_DEBIAN = join(PROJECT_ROOT, 'guest', 'build-debian-image.sh');
/** The image cache's protocol and the image-name rule, sourced by the scripts above. */
export const GUEST_CACHE = join(PROJECT_ROOT, 'guest', 'cache.sh');
