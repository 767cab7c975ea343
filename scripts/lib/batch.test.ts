import { describe, expect, it } from 'vitest';
import { batchArgv, splitBatch } from './batch.ts';
import { CommandError, LocalRunner } from './runner.ts';

// A real `sh` runs each batch: what the VM's shell does with it is the behaviour under test.
const local = new LocalRunner();

describe('runEach (one sh -c)', () => {
  it('gives each part its own stdout and exit code, in one command', async () => {
    const r = await local.runEach({
      one: ['echo', 'a b'],
      quiet: ['true'],
      failing: ['sh', '-c', 'echo partial; echo why >&2; exit 3'],
      noNewline: ['printf', '%s', 'no newline'],
      quoted: ['printf', '%s\n', "it's $HOME; `x`"],
    });
    expect(r.one).toMatchObject({ code: 0, stdout: 'a b' });
    expect(r.quiet).toMatchObject({ code: 0, stdout: '' });
    expect(r.failing).toMatchObject({ code: 3, stdout: 'partial' });
    expect(r.failing.stderr).toContain('why');
    expect(r.noNewline.stdout).toBe('no newline');
    expect(r.quoted.stdout).toBe("it's $HOME; `x`");
  });

  it('is not fooled by output that looks like a marker of another batch', async () => {
    const r = await local.runEach({
      a: ['printf', '%s\n', '--- other b', '--- other rc 9'],
      b: ['echo', 'real'],
    });
    expect(r.a).toMatchObject({ code: 0, stdout: '--- other b\n--- other rc 9' });
    expect(r.b).toMatchObject({ code: 0, stdout: 'real' });
  });

  it('names the part where the batch stopped', async () => {
    const argv = batchArgv({ a: ['echo', 'x'], b: ['echo', 'y'] }, 'n');
    const died = (
      await local.run(['sh', '-c', `${argv[2].split('\n')[0]}; exit 1`, 'sh', 'n'], { check: false })
    ).stdout;
    expect(() => splitBatch(died, ['a', 'b'], 'n')).toThrow('stopped before its part "b"');
    expect(() => splitBatch('\n--- n a\nx\n', ['a'], 'n')).toThrow('stopped inside its part "a"');
  });

  it('refuses a part name that is not a word', () => {
    expect(() => batchArgv({ 'a b': ['true'] }, 'n')).toThrow('part name "a b" is not a word');
  });
});

describe('runSequence (one bash -c, in order, until a failure)', () => {
  it('stops after the first part that fails, and times each part on the far side', async () => {
    const r = await local.runSequence({
      slow: ['sleep', '0.2'],
      failing: ['sh', '-c', 'echo half; exit 4'],
      never: ['touch', '/nonexistent-dir/never'],
    });
    expect(Object.keys(r)).toEqual(['slow', 'failing']);
    expect(r.slow?.code).toBe(0);
    expect(r.slow?.ms).toBeGreaterThanOrEqual(200);
    expect(r.slow?.ms).toBeLessThan(2000);
    expect(r.failing).toMatchObject({ code: 4, stdout: 'half' });
  });

  it('goes on past a part that may fail', async () => {
    const r = await local.runSequence({ maybe: ['false'], after: ['echo', 'ran'] }, { mayFail: ['maybe'] });
    expect(r.maybe?.code).toBe(1);
    expect(r.after).toMatchObject({ code: 0, stdout: 'ran' });
  });

  it('throws, naming the part, when the shell dies inside it', async () => {
    const e = await local
      .runSequence({ first: ['true'], dies: ['sh', '-c', 'kill -9 $PPID'], next: ['true'] })
      .catch((x) => x);
    expect(e.message).toContain('stopped inside its part "dies"');
  });
});

describe('captureEach', () => {
  it("throws the failing part's CommandError, with its own argv", async () => {
    const parts = { ok: ['echo', 'fine'], bad: ['ls', '/no/such/dir'] };
    const e = await local.captureEach(parts).catch((x) => x);
    expect(e).toBeInstanceOf(CommandError);
    expect(e.argv).toEqual(['ls', '/no/such/dir']);
    expect(e.message).toMatch(/`ls \/no\/such\/dir` exited 2/);
  });

  it('lets an unchecked part fail', async () => {
    const out = await local.captureEach({ ok: ['echo', 'fine'], probe: ['false'] }, { unchecked: ['probe'] });
    expect(out).toEqual({ ok: 'fine', probe: '' });
  });
});
