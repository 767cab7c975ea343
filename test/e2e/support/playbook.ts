// `ansible-playbook setup.yml` against the twin as a user runs it (from ansible/, the twin's
// inventory), with its output and PLAY RECAP counts: the converge tests (20) and the ACME run (85).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { root } from './twin.ts';

export const ansibleDir = resolve(root, 'ansible');

export interface PlaybookRun {
  code: number;
  out: string;
  seconds: number;
  recap: { ok: number; changed: number; failed: number; unreachable: number };
}

export function playbook(...args: string[]): Promise<PlaybookRun> {
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn('ansible-playbook', ['setup.yml', ...args], {
      cwd: ansibleDir,
      env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => {
      const m = /ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(out);
      done({
        code: code ?? 1,
        out,
        seconds: (Date.now() - t0) / 1000,
        recap: {
          ok: Number(m?.[1] ?? -1),
          changed: Number(m?.[2] ?? -1),
          unreachable: Number(m?.[3] ?? -1),
          failed: Number(m?.[4] ?? -1),
        },
      });
    });
  });
}

/** The tasks that reported a change, for a readable failure message. */
export const changedTasks = (out: string) =>
  out
    .split(/\n(?=TASK |RUNNING HANDLER )/)
    .filter((block) => /\nchanged: /.test(block))
    .map((block) => block.split('\n')[0]);
