// The kernel twin's channel in, against the real QEMU guest agent (Debian's qemu-ga, listening
// on a unix socket here instead of a virtio port): the same protocol the guest speaks.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestExec } from './qga.ts';

const dir = mkdtempSync(join(tmpdir(), 'e2m-qga-'));
const socket = join(dir, 'qga.sock');
const script = join(import.meta.dirname, 'qga.ts');
let agent: ChildProcess;

beforeAll(async () => {
  agent = spawn('qemu-ga', ['--method=unix-listen', `--path=${socket}`, `--statedir=${dir}`], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
});

afterAll(() => {
  agent.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('qga.ts, through a real qemu-ga', () => {
  it('passes stdin, stdout, stderr and the exit code through', async () => {
    const r = await guestExec(socket, ['sh', '-c', 'tr a-z A-Z; echo err >&2; exit 7'], {
      input: Buffer.from('hello\n'),
    });
    expect({ code: r.code, out: r.stdout.toString(), err: r.stderr.toString() }).toEqual({
      code: 7,
      out: 'HELLO\n',
      err: 'err\n',
    });
  });

  it('runs as a command line, as execIn hands it to the runner', () => {
    const r = spawnSync(process.execPath, [script, socket, '--stdin', '--', 'wc', '-c'], {
      input: 'x'.repeat(100_000),
      encoding: 'utf8',
    });
    expect({ status: r.status, out: r.stdout.trim() }).toEqual({ status: 0, out: '100000' });
    const missing = spawnSync(process.execPath, [script, socket, '--', '/nonexistent/tool'], {
      encoding: 'utf8',
    });
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/^qga\.ts: guest agent guest-exec: /);
  });

  it('ends a command that outlives its timeout with 124', async () => {
    const r = await guestExec(socket, ['sleep', '5'], { timeoutMs: 300 });
    expect(r.code).toBe(124);
  });

  it('gives up on a socket where no agent answers, as while the guest still boots', async () => {
    const silent: Server = createServer(() => {});
    const path = join(dir, 'silent.sock');
    await new Promise<void>((r) => silent.listen(path, r));
    await expect(guestExec(path, ['true'], { timeoutMs: 1000 })).rejects.toThrow(
      'the guest agent did not answer within 1s',
    );
    silent.close();
    const usage = spawnSync(process.execPath, [script, socket], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });
});
