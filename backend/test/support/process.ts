import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

// The real server process (`bun src/server.ts`), for what only a process can show: signals,
// exit codes, start-up errors, Sentry's transport.
const backendDir = join(import.meta.dirname, '..', '..');

export type ServerProcess = {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
};

export function spawnServer(args: string[], env: Record<string, string>): ServerProcess {
  const child = spawn('bun', ['src/server.ts', ...args], {
    cwd: backendDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function runServerCommand(args: string[], env: Record<string, string>) {
  const p = spawnServer(args, env);
  const code = await p.exited;
  return { code, output: p.output() };
}
