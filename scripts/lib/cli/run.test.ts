// The runner: what the user sees and the exit code, for each way a command can end.
import { describe, expect, it } from 'vitest';
import type { CliSpec } from './args.ts';
import { CliError, createContext, renderResult } from './context.ts';
import { type Cli, runCli } from './run.ts';

const spec: CliSpec = {
  script: 'tool.mjs',
  usage: 'tool <command>',
  commandsTitle: 'Commands:',
  column: 10,
  options: { json: { type: 'boolean', help: 'json' }, help: { type: 'boolean', short: 'h', help: 'help' } },
  commands: { go: { summary: 'go', options: ['json'], about: 'Goes.' } },
};

class Expected extends Error {}

async function run(main: Cli['main'], ...args: string[]) {
  const lines: string[] = [];
  let code = -1;
  const printer = {
    write: (l: string) => lines.push(l),
    exit: (c: number): never => {
      code = c;
      throw new Error('exit');
    },
  };
  await runCli({ spec, main, expected: [Expected] }, ['node', 'tool.mjs', ...args], '/repo', printer).catch(
    (e: Error) => {
      if (e.message !== 'exit') throw e;
    },
  );
  return { lines, code };
}

describe('runCli', () => {
  it('prints the text, or only the --json object, and exits with the code', async () => {
    const main: Cli['main'] = async (_inv, ctx) => {
      ctx.progress('working');
      return { code: 1, json: { ok: false }, text: 'not ok' };
    };
    const text = await run(main, 'go');
    expect(text.code).toBe(1);
    expect(text.lines.at(-1)).toBe('not ok');
    expect(text.lines[0]).toMatch(/\[\d+\.\ds\] working/);
    expect(await run(main, 'go', '--json')).toEqual({ lines: ['{"ok":false}'], code: 1 });
  });

  it('a CliError or an expected error is "error: ..." with its code; usage is exit 2', async () => {
    const usage = await run(
      async () => {
        throw new CliError('bad flag', 2, { hint: 'x' });
      },
      'go',
      '--json',
    );
    expect(usage).toEqual({ lines: ['{"ok":false,"error":"bad flag","hint":"x"}'], code: 2 });
    const expected = await run(async () => {
      throw new Expected('nothing deployed');
    }, 'go');
    expect(expected.code).toBe(1);
    expect(expected.lines[0]).toContain('error: nothing deployed');
    expect((await run(async () => ({ code: 0 }), 'go', '--nope')).code).toBe(2);
    await expect(
      run(async () => {
        throw new TypeError('a bug');
      }, 'go'),
    ).rejects.toThrow('a bug');
  });
});

describe('context', () => {
  it('says nothing with --json; times steps', () => {
    const lines: string[] = [];
    let t = 0;
    const ctx = createContext(false, { write: (l) => lines.push(l), now: () => t });
    t = 1500;
    const step = { kind: 'run', id: 'x', title: 'restart caddy', host: 'vm', argv: [] } as never;
    ctx.step({ type: 'start', index: 0, total: 2, step, phase: 'plan' });
    ctx.step({ type: 'failed', index: 0, total: 2, step, ms: 250, error: 'boom', phase: 'plan' });
    expect(lines.join('\n')).toMatch(/\[1\.5s\] 1\/2 restart caddy[\s\S]*FAILED at x after 0\.3s: boom/);
    const quiet: string[] = [];
    createContext(true, { write: (l) => quiet.push(l) }).say('hello');
    expect(quiet).toEqual([]);
    expect(renderResult({ code: 0, json: '{"raw":1}' }, true)).toBe('{"raw":1}');
    expect(renderResult({ code: 0 }, true)).toBeUndefined();
  });
});
