// The one I/O edge for running commands: locally (zx), on a VM (node-ssh), or recorded (tests).
// Commands are argv arrays everywhere else; they become shell text only at this edge (shell.ts).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { NodeSSH } from 'node-ssh';
import { $ } from 'zx';
import { batchArgv, type Parts, splitBatch } from './batch.ts';
import { shellQuote, toShell } from './shell.ts';
import { fingerprint, knownHostKeys } from './ssh/known-hosts.ts';
import { expandProxyCommand, openProxy, type ProxyStream } from './ssh/proxy.ts';

export { shellQuote, toShell };

export interface RunOptions {
  /** Text fed to the command's stdin. */
  input?: string;
  /** Throw CommandError on a non-zero exit (default true). Set false where failure is an answer. */
  check?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A part of a batch that ran: its result (stderr is the whole batch's) and its time there. */
export type Ran = RunResult & { ms?: number };

export interface Runner {
  /** Where commands run, for messages: "local", "ops@127.0.0.1:2222". */
  readonly where: string;
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** stdout, trimmed; throws on a non-zero exit. */
  capture(argv: readonly string[], opts?: Omit<RunOptions, 'check'>): Promise<string>;
  /** Several commands in one round trip (batch.ts); each result its own, none throws. */
  runEach<K extends string>(parts: Parts<K>): Promise<Record<K, RunResult>>;
  /** Commands in one round trip, in order, until one not in `mayFail` fails: the results of
   * those that ran, each with its time on the far side. Throws when the batch died before the end. */
  runSequence<K extends string>(
    parts: Parts<K>,
    opts?: { mayFail?: readonly NoInfer<K>[] },
  ): Promise<Partial<Record<K, Ran>>>;
  /** Each command's stdout, trimmed; a command that exits non-zero throws its CommandError
   * (its own argv), unless it is `unchecked`. */
  captureEach<K extends string>(
    parts: Parts<K>,
    opts?: { unchecked?: readonly NoInfer<K>[] },
  ): Promise<Record<K, string>>;
  upload(localPath: string, remotePath: string): Promise<void>;
  close(): Promise<void>;
}

export class CommandError extends Error {
  readonly where: string;
  readonly argv: readonly string[];
  readonly result: RunResult;
  constructor(where: string, argv: readonly string[], result: RunResult) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    super(`${where}: \`${toShell(argv)}\` exited ${result.code}${detail ? `:\n${detail}` : ''}`);
    this.name = 'CommandError';
    this.where = where;
    this.argv = argv;
    this.result = result;
  }
}

/** Each part's stdout, trimmed, as captureEach gives it: a part that exited non-zero throws its
 * CommandError (its own argv) unless it is `unchecked`. For results read in some other batch. */
export function capturedOf<K extends string>(
  where: string,
  parts: Parts<K>,
  results: Partial<Record<K, RunResult>>,
  unchecked: readonly K[] = [],
): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const name of Object.keys(parts) as K[]) {
    const r = results[name];
    if (!r) throw new Error(`${where}: the batched command never ran its part "${name}"`);
    if (r.code !== 0 && !unchecked.includes(name)) throw new CommandError(where, parts[name], r);
    out[name] = r.stdout.trim();
  }
  return out;
}

abstract class BaseRunner implements Runner {
  abstract readonly where: string;
  abstract exec(argv: readonly string[], input?: string): Promise<RunResult>;
  abstract upload(localPath: string, remotePath: string): Promise<void>;
  async close(): Promise<void> {}

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const result = await this.exec(argv, opts.input);
    if (result.code !== 0 && opts.check !== false) throw new CommandError(this.where, argv, result);
    return result;
  }

  async capture(argv: readonly string[], opts: Omit<RunOptions, 'check'> = {}): Promise<string> {
    return (await this.run(argv, opts)).stdout.trim();
  }
  async runEach<K extends string>(parts: Parts<K>): Promise<Record<K, RunResult>> {
    return (await this.batch(parts)) as Record<K, RunResult>;
  }
  runSequence<K extends string>(
    parts: Parts<K>,
    opts: { mayFail?: readonly NoInfer<K>[] } = {},
  ): Promise<Partial<Record<K, Ran>>> {
    return this.batch(parts, opts.mayFail ?? []);
  }
  /** One `bash -c` for all the parts (batch.ts); `stopUnless` makes it a sequence. */
  private async batch<K extends string>(
    parts: Parts<K>,
    stopUnless?: readonly K[],
  ): Promise<Partial<Record<K, Ran>>> {
    const nonce = randomUUID();
    const r = await this.exec(batchArgv(parts, nonce, { stopUnless }));
    try {
      const split = splitBatch(r.stdout, Object.keys(parts) as K[], nonce, { stopUnless });
      const results: Partial<Record<K, Ran>> = {};
      for (const [name, part] of Object.entries(split) as [K, Ran][])
        results[name] = { ...part, stderr: r.stderr };
      return results;
    } catch (e) {
      throw new Error(`${this.where}: ${(e as Error).message} (exit ${r.code}): ${r.stderr.trim()}`);
    }
  }
  async captureEach<K extends string>(
    parts: Parts<K>,
    opts: { unchecked?: readonly NoInfer<K>[] } = {},
  ): Promise<Record<K, string>> {
    return capturedOf(this.where, parts, await this.runEach(parts), opts.unchecked);
  }
}

/** Runs on this machine through zx, which quotes each argv element itself. */
export class LocalRunner extends BaseRunner {
  readonly where = 'local';
  async exec(argv: readonly string[], input?: string): Promise<RunResult> {
    const [cmd, ...args] = argv;
    const p = $({ quiet: true, nothrow: true, input })`${cmd} ${args}`;
    const out = await p;
    return { code: out.exitCode ?? 1, stdout: out.stdout, stderr: out.stderr };
  }
  async upload(localPath: string, remotePath: string): Promise<void> {
    await this.run(['cp', localPath, remotePath]);
  }
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  keyFile: string;
  /** OpenSSH known_hosts file that must list the server's key: no file, no connection. */
  knownHostsFile?: string;
  /** OpenSSH ProxyCommand (%h %p %r), e.g. an IAP tunnel; absent: a direct TCP connection. */
  proxyCommand?: string;
}

/** The host keys `target.knownHostsFile` pins; fails closed when there is no file or no key. */
function pinnedKeys(target: SshTarget): string[] {
  const at = `${target.host}:${target.port}`;
  if (!target.knownHostsFile)
    throw new Error(
      `no known_hosts file pins the host key of ${at}: refusing to connect (the inventory's ` +
        'e2m_known_hosts_file; `npm run infra:inventory` writes it for a GCP VM)',
    );
  let text: string;
  try {
    text = readFileSync(target.knownHostsFile, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the known_hosts file ${target.knownHostsFile}: ${(e as Error).message}`);
  }
  const keys = knownHostKeys(text, target.host, target.port);
  if (keys.length === 0)
    throw new Error(`${target.knownHostsFile} lists no key for ${at}: refusing to connect`);
  return keys;
}

/** Runs on a VM over SSH (node-ssh); the remote login shell splits the line toShell built. */
export class SshRunner extends BaseRunner {
  readonly where: string;
  private readonly ssh: NodeSSH;
  private readonly proxy: ProxyStream | undefined;
  private constructor(ssh: NodeSSH, target: SshTarget, proxy: ProxyStream | undefined) {
    super();
    this.ssh = ssh;
    this.proxy = proxy;
    this.where = `${target.user}@${target.host}:${target.port}`;
  }

  static async connect(target: SshTarget, opts: { readyTimeoutMs?: number } = {}): Promise<SshRunner> {
    const trusted = pinnedKeys(target);
    const privateKey = readFileSync(target.keyFile, 'utf8');
    const proxy = target.proxyCommand
      ? openProxy(expandProxyCommand(target.proxyCommand, target))
      : undefined;
    let refused: string | undefined;
    // Our own socket, for TCP_NODELAY: with Nagle's algorithm on (ssh2's default) each command's
    // small packets wait for the VM's delayed ACK, about 90 ms a command on the twin's loopback
    // against 4 ms without it (docs/deploy.md, "Where a command's time goes"). The no-op
    // listener keeps a refused connection from crashing the process should node-ssh throw before
    // ssh2 listens; ssh2's own listener still gets the error and fails the connect.
    const sock = proxy ? proxy.sock : tcpConnect({ host: target.host, port: target.port, noDelay: true });
    if (!proxy) sock.on('error', () => undefined);
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        sock,
        username: target.user,
        privateKey,
        readyTimeout: opts.readyTimeoutMs ?? 20_000,
        hostVerifier: (key: Buffer) => {
          if (trusted.includes(key.toString('base64'))) return true;
          refused = fingerprint(key);
          return false;
        },
      });
    } catch (e) {
      ssh.dispose();
      if (!proxy) sock.destroy();
      const at = `${target.host}:${target.port}`;
      if (refused) {
        proxy?.close();
        throw new Error(
          `the host key of ${at} (${refused}) is not one ${target.knownHostsFile} pins: refusing to ` +
            'connect. If the VM was rebuilt, pin its new key (`npm run infra:inventory`); if not, ' +
            'someone may be intercepting the connection.',
        );
      }
      await proxy?.settled(1000);
      proxy?.close();
      const said = proxy?.stderr();
      throw said ? new Error(`${(e as Error).message}; the proxy command said: ${said}`) : e;
    }
    return new SshRunner(ssh, target, proxy);
  }

  async exec(argv: readonly string[], input?: string): Promise<RunResult> {
    const r = await this.ssh.execCommand(toShell(argv), { stdin: input });
    return { code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr };
  }
  async upload(localPath: string, remotePath: string): Promise<void> {
    await this.ssh.putFile(localPath, remotePath);
  }
  /**
   * Hands output over as it comes and keeps none of it (`logs --follow` may run for hours);
   * resolves to the exit code.
   */
  stream(
    argv: readonly string[],
    onStdout: (b: Buffer) => void,
    onStderr: (b: Buffer) => void,
  ): Promise<number> {
    const conn = this.ssh.connection;
    if (!conn) return Promise.reject(new Error(`${this.where}: not connected`));
    return new Promise((resolve, reject) => {
      conn.exec(toShell(argv), (err: Error | undefined, channel: StreamChannel) => {
        if (err) return reject(err);
        channel.on('data', onStdout);
        channel.stderr.on('data', onStderr);
        channel.on('close', (code: number | null) => resolve(code ?? 1));
      });
    });
  }
  override async close(): Promise<void> {
    this.ssh.dispose();
    this.proxy?.close();
  }
}

/** The part of an ssh2 exec channel `stream` uses (ssh2 ships no types here). */
interface StreamChannel {
  on(event: 'data', listener: (b: Buffer) => void): unknown;
  on(event: 'close', listener: (code: number | null) => void): unknown;
  stderr: { on(event: 'data', listener: (b: Buffer) => void): unknown };
}

export type RecordedCall =
  | { kind: 'run'; argv: string[]; input?: string }
  | { kind: 'upload'; localPath: string; remotePath: string };

/** Answers commands from a script and records them, for orchestration tests. */
export class RecordingRunner extends BaseRunner {
  readonly where = 'recording';
  readonly calls: RecordedCall[] = [];
  private readonly respond: (argv: readonly string[]) => Partial<RunResult> | undefined;
  constructor(respond: (argv: readonly string[]) => Partial<RunResult> | undefined = () => undefined) {
    super();
    this.respond = respond;
  }
  /** The commands run so far, as shell lines: what a test asserts on. */
  get commands(): string[] {
    return this.calls.flatMap((c) => (c.kind === 'run' ? [toShell(c.argv)] : []));
  }
  async exec(argv: readonly string[], input?: string): Promise<RunResult> {
    this.calls.push({ kind: 'run', argv: [...argv], ...(input === undefined ? {} : { input }) });
    return { code: 0, stdout: '', stderr: '', ...this.respond(argv) };
  }
  /** Each part recorded and answered on its own, as if run alone: the framing that puts them in
   * one command is tested against a real shell (batch.test.ts). */
  override async runEach<K extends string>(parts: Parts<K>): Promise<Record<K, RunResult>> {
    return (await this.runSequence(parts, { mayFail: Object.keys(parts) as K[] })) as Record<K, RunResult>;
  }
  override async runSequence<K extends string>(
    parts: Parts<K>,
    opts: { mayFail?: readonly K[] } = {},
  ): Promise<Partial<Record<K, Ran>>> {
    const results: Partial<Record<K, Ran>> = {};
    for (const name of Object.keys(parts) as K[]) {
      const r = await this.exec(parts[name]);
      results[name] = { ...r, stdout: r.stdout.trim() };
      if (r.code !== 0 && !opts.mayFail?.includes(name)) break;
    }
    return results;
  }
  async upload(localPath: string, remotePath: string): Promise<void> {
    this.calls.push({ kind: 'upload', localPath, remotePath });
  }
}
