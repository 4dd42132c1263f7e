// ssh's options, each rule defined once, for every ssh mnkvm runs: into a
// guest (KVMHost's popen() and terminals: Python asks vmReady), into a
// server (the run's ssh_config, cluster/servers.ts) and into a virtual
// testbed server (testbed/testbed.ts: its own ssh, its Ansible inventory).

/** ssh options by name: `-o Name=value` on a command line, `Name value` in an ssh_config. */
export type SshOptions = Readonly<Record<string, string>>;

/** A host whose key is new with every boot (a guest, a virtual testbed server): no key to check, none to keep. */
export const FRESH_HOST_KEY: SshOptions = { StrictHostKeyChecking: 'no', UserKnownHostsFile: '/dev/null' };

/** Only errors on stderr (not "Permanently added ... to the list of known hosts"). */
export const ERRORS_ONLY: SshOptions = { LogLevel: 'ERROR' };

/** No one to answer: no prompt for a password, and a host that does not answer is an error within 10 s. */
export const UNATTENDED: SshOptions = { BatchMode: 'yes', ConnectTimeout: '10' };

/** Keep-alives for a server: a connection that its reboot cut ends within 15 s, not never (Ansible's reboot waits on it). */
export const SERVER_KEEPALIVE: SshOptions = { ServerAliveInterval: '5', ServerAliveCountMax: '3' };

/** Keep-alives for a guest: a login ends within seconds of the VM's end, wherever it runs: nothing waits forever on a dead guest. */
const GUEST_KEEPALIVE: SshOptions = { ServerAliveInterval: '1', ServerAliveCountMax: '5' };

/** Options as ssh's command line takes them: -o Name=value ... */
export function sshArgs(options: SshOptions): string[] {
  return Object.entries(options).flatMap(([name, value]) => ['-o', `${name}=${value}`]);
}

/** Options as lines of an ssh_config's Host block. */
export function sshConfigLines(options: SshOptions): string[] {
  return Object.entries(options).map(([name, value]) => `  ${name} ${value}`);
}

/**
 * The options of an ssh that logs into a guest with its key (KVMHost adds
 * -T or -t, then the target): the user's ssh_config plays no part, and
 * only what the command says is printed.
 */
export function guestSshArgs(key: string): string[] {
  return ['-F', '/dev/null', '-q', '-i', key, ...sshArgs({ ...FRESH_HOST_KEY, ...UNATTENDED, ...GUEST_KEEPALIVE })];
}
