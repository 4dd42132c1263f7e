// The shared folder's server: OpenSSH's SFTP server on this machine, talking
// to the guest's sshfs over a virtio port (share=DIR), for the guests of
// every backend on this machine (on a server, cluster/machine.ts runs it there).
import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { MnkvmError } from '../errors.js';
import { killIfSame, processId, type ProcessId } from '../proc.js';
import type { RunRecord } from '../records.js';

/** OpenSSH's SFTP server: it serves the shared folder to the guest's sshfs over a virtio port. */
export const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

/**
 * The SFTP server of the guest's shared folder, on the FIFO pair of QEMU's
 * pipe chardev (QEMU reads share.in, writes share.out). Both ends are
 * opened read-write so that neither open blocks nor sees an early EOF.
 * guest: its name, runtime folder, and whether it is a clone of a template.
 */
export async function startFileServer(guest: { name: string; dir: string; clone: boolean }, record: RunRecord): Promise<ProcessId> {
  if (!existsSync(SFTP_SERVER)) throw new MnkvmError(`${SFTP_SERVER} is missing (for share=): run ./setup.sh, or use share=none`);
  const fifo = join(guest.dir, 'share');
  const fromGuest = openSync(`${fifo}.out`, 'r+');
  const toGuest = openSync(`${fifo}.in`, 'r+');
  // A clone's sshfs mounted the folder in the template: its SFTP session is
  // past the handshake, which this new server must also be. Say its INIT
  // (SFTP version 3) here and take the VERSION answer off before QEMU runs.
  if (guest.clone) writeSync(fromGuest, SFTP_INIT);
  const server = spawn(SFTP_SERVER, ['-l', 'QUIET'], { detached: true, stdio: [fromGuest, toGuest, 'ignore'] });
  closeSync(fromGuest);
  closeSync(toGuest);
  server.unref();
  if (server.pid === undefined) throw new MnkvmError(`${guest.name}: ${SFTP_SERVER} could not be started`);
  const proc = processId(server.pid);
  record.add({ kind: 'process', name: `${guest.name}-sftp`, proc });
  if (guest.clone) {
    await readPacket(`${fifo}.in`, 5000).catch((e: Error) => {
      killIfSame(proc, 'SIGKILL');
      throw new MnkvmError(`${guest.name}: ${SFTP_SERVER} did not answer (${e.message})`);
    });
  }
  return proc;
}

/** SSH_FXP_INIT, version 3: length 5, type 1, version 3. */
const SFTP_INIT = Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]);

/** Read one length-prefixed SFTP packet from a FIFO. */
function readPacket(path: string, timeoutMs: number): Promise<Buffer> {
  const socket = new Socket({ fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
  let data = Buffer.alloc(0);
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 4 && data.length >= 4 + data.readUInt32BE(0)) {
        clearTimeout(timer);
        resolve(data);
      }
    });
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
  }).finally(() => socket.destroy());
}
