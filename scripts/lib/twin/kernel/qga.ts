// `docker exec` for the kernel twin: runs one command as root in the QEMU guest through the QEMU
// guest agent (qemu-ga, virtio-serial, a unix socket on this machine that only its owner can
// open), with stdin, stdout, stderr and the exit code passed through. Twin-only, as `docker exec`
// is for the container twin: a GCP VM has no such channel, and nothing the playbooks or the
// deploy use goes through it (they use SSH, as on GCP).
//
//   node qga.ts SOCKET [--stdin] [--timeout S] -- COMMAND [ARG...]
//
// Exit code: the command's; 124 when it outlives --timeout (600 s by default); 125 when the
// agent cannot be reached or refuses the command.
import { createConnection, type Socket } from 'node:net';

interface Reply {
  return?: unknown;
  error?: { class: string; desc: string };
}

interface ExecStatus {
  exited: boolean;
  exitcode?: number;
  signal?: number;
  'out-data'?: string;
  'err-data'?: string;
}

/** One connection to the agent: requests in order, one JSON reply per line. */
class Agent {
  private buffer = '';
  private waiting: ((line: string) => void)[] = [];
  private lines: string[] = [];

  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, i).trim();
        this.buffer = this.buffer.slice(i + 1);
        if (!line) continue;
        const next = this.waiting.shift();
        if (next) next(line);
        else this.lines.push(line);
      }
    });
  }

  static connect(path: string, timeoutMs: number): Promise<Agent> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to the guest agent at ${path} within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new Agent(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`guest agent socket ${path}: ${e.message}`));
      });
    });
  }

  private line(): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private async send(execute: string, args?: unknown): Promise<Reply> {
    this.socket.write(`${JSON.stringify({ execute, ...(args === undefined ? {} : { arguments: args }) })}\n`);
    return JSON.parse(await this.line()) as Reply;
  }

  /** What an earlier client left unread is skipped: replies up to our own sync id are dropped. */
  async sync(timeoutMs: number): Promise<void> {
    const id = Math.floor(Math.random() * 2 ** 31);
    this.socket.write(`${JSON.stringify({ execute: 'guest-sync', arguments: { id } })}\n`);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the guest agent did not answer within ${timeoutMs / 1000}s`)),
        timeoutMs,
      );
    });
    try {
      for (;;) {
        const reply = JSON.parse(await Promise.race([this.line(), late])) as Reply;
        if (reply.return === id) return;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async call<T>(execute: string, args?: unknown): Promise<T> {
    const reply = await this.send(execute, args);
    if (reply.error) throw new Error(`guest agent ${execute}: ${reply.error.desc}`);
    return reply.return as T;
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface GuestResult {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs argv in the guest and waits for it (polling its status every 50 ms). */
export async function guestExec(
  socketPath: string,
  argv: string[],
  opts: { input?: Buffer; timeoutMs?: number } = {},
): Promise<GuestResult> {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const agent = await Agent.connect(socketPath, 10_000);
  try {
    // Until the guest's agent runs, QEMU accepts the connection and nothing ever answers; a busy
    // guest under emulation can take seconds to answer, so only a short --timeout shortens this.
    await agent.sync(Math.min(timeoutMs, 30_000));
    const { pid } = await agent.call<{ pid: number }>('guest-exec', {
      path: argv[0],
      arg: argv.slice(1),
      'capture-output': true,
      ...(opts.input ? { 'input-data': opts.input.toString('base64') } : {}),
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await agent.call<ExecStatus>('guest-exec-status', { pid });
      if (s.exited) {
        const decode = (b64?: string) => Buffer.from(b64 ?? '', 'base64');
        const code = s.exitcode ?? (s.signal !== undefined ? 128 + s.signal : 1);
        return { code, stdout: decode(s['out-data']), stderr: decode(s['err-data']) };
      }
      if (Date.now() > deadline)
        return { code: 124, stdout: Buffer.alloc(0), stderr: Buffer.from('timed out\n') };
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    agent.close();
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function main(args: string[]): Promise<number> {
  const sep = args.indexOf('--');
  const [socketPath, ...flags] = sep < 0 ? args : args.slice(0, sep);
  const argv = sep < 0 ? [] : args.slice(sep + 1);
  if (!socketPath || argv.length === 0) {
    process.stderr.write('usage: qga.ts SOCKET [--stdin] [--timeout S] -- COMMAND [ARG...]\n');
    return 2;
  }
  const t = flags.indexOf('--timeout');
  const timeoutMs = t >= 0 ? Number(flags[t + 1]) * 1000 : undefined;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    process.stderr.write(`qga.ts: --timeout must be a number of seconds (got "${flags[t + 1]}")\n`);
    return 2;
  }
  try {
    const input = flags.includes('--stdin') ? await readStdin() : undefined;
    const r = await guestExec(socketPath, argv, { input, timeoutMs });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } catch (e) {
    process.stderr.write(`qga.ts: ${(e as Error).message}\n`);
    return 125;
  }
}

if (process.argv[1] === import.meta.filename) process.exitCode = await main(process.argv.slice(2));
