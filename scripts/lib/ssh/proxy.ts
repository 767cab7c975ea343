// An SSH connection through a command's stdin/stdout, as OpenSSH's ProxyCommand: on GCP,
// `gcloud compute start-iap-tunnel VM 22 --listen-on-stdin` (the firewall opens 22 only to
// Google's IAP range). node-ssh takes the stream as `sock`; Ansible gets the same command
// through ansible_ssh_common_args (gcp-inventory.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

/** Pure: OpenSSH's ProxyCommand tokens %h, %p, %r and %% filled in. */
export function expandProxyCommand(
  command: string,
  to: { host: string; port: number; user: string },
): string {
  return command.replace(/%([hpr%])/g, (_, t: string) =>
    t === 'h' ? to.host : t === 'p' ? String(to.port) : t === 'r' ? to.user : '%',
  );
}

export interface ProxyStream {
  sock: Duplex;
  /** What the command printed on stderr (its last 2 KB), for the error when SSH fails. */
  stderr(): string;
  /** Resolves when the command has exited, or after `ms`: its stderr is complete then. */
  settled(ms: number): Promise<void>;
  close(): void;
}

/** Starts `command` (through sh, as OpenSSH does) and hands its stdio over as one stream. */
export function openProxy(command: string): ProxyStream {
  const child: ChildProcess = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
  const { stdin, stdout, stderr } = child;
  if (!stdin || !stdout || !stderr) throw new Error(`proxy command did not start: ${command}`);
  let err = '';
  stderr.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-2048);
  });
  // A command that cannot start, or exits, shows as the SSH handshake failing; stderr says why.
  child.on('error', (e) => {
    err += `\n${e.message}`;
  });
  stdin.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const sock = new Duplex({
    read: () => stdout.resume(),
    write: (chunk, _enc, done) => stdin.write(chunk, done),
    final: (done) => stdin.end(done),
    destroy: (e, done) => {
      stdin.destroy();
      stdout.destroy();
      done(e);
    },
  });
  stdout.on('data', (b: Buffer) => {
    if (!sock.push(b)) stdout.pause();
  });
  stdout.on('end', () => sock.push(null));
  return {
    sock,
    stderr: () => err.trim(),
    settled: (ms) => Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]),
    close: () => {
      sock.destroy();
      if (child.exitCode === null) child.kill();
    },
  };
}
