// A project CLI run as a user runs it (`npx zx scripts/NAME.mjs ...`): exit code, all output, and
// the last line parsed when it is JSON (what --json prints).
import { spawn } from 'node:child_process';
import { root } from './twin.ts';

export type Cli = { code: number; out: string; json?: Record<string, unknown> };

export function zxCli(script: string, ...args: string[]): Promise<Cli> {
  return new Promise((resolve) => {
    const p = spawn('npx', ['zx', `scripts/${script}`, ...args], { cwd: root });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    p.on('exit', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(out.trim().split('\n').pop() ?? '');
      } catch {}
      resolve({ code: code ?? 1, out, json });
    });
  });
}
