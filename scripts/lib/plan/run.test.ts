// The one plan executor, driven through the recording runner: order, timings, the first failure,
// the rescue, warnings, and the polling every wait step uses.
import { describe, expect, it } from 'vitest';
import { CommandError, RecordingRunner } from '../runner.ts';
import { type Clock, type Handlers, poll, runPlan, type StepEvent } from './run.ts';

type Step =
  | { kind: 'run'; id?: string; title: string; argv: string[] }
  | { kind: 'note'; id?: string; title: string; text: string };

/** A clock that only moves when a step runs (each command takes 100 ms) or a wait sleeps. */
function fakeClock(): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

function setup(fails: (line: string) => boolean = () => false) {
  const clock = fakeClock();
  const runner = new RecordingRunner((argv) => {
    clock.t += 100;
    return fails(argv.join(' ')) ? { code: 1, stderr: 'boom' } : undefined;
  });
  const handlers: Handlers<Step> = {
    run: (s) => runner.run(s.argv),
    note: async (s) => s.text,
  };
  const events: string[] = [];
  const onEvent = (e: StepEvent<Step>) =>
    events.push(
      `${e.phase} ${e.index + 1}/${e.total} ${e.type} ${e.step.title}${'ms' in e ? ` ${e.ms}` : ''}`,
    );
  return { clock, runner, handlers, events, options: { onEvent, now: clock.now } };
}

const run = (id: string, ...argv: string[]): Step => ({ kind: 'run', id, title: `run ${id}`, argv });

describe('runPlan', () => {
  it('runs the steps in order through their handlers and times each one', async () => {
    const h = setup();
    const result = await runPlan(
      { steps: [run('a', 'echo', 'a'), run('b', 'echo', 'b'), run('a', 'echo', 'again')] },
      h.handlers,
      h.options,
    );
    expect(h.runner.commands).toEqual(['echo a', 'echo b', 'echo again']);
    expect(h.events).toEqual([
      'plan 1/3 start run a',
      'plan 1/3 done run a 100',
      'plan 2/3 start run b',
      'plan 2/3 done run b 100',
      'plan 3/3 start run a',
      'plan 3/3 done run a 100',
    ]);
    expect(result).toEqual({
      ok: true,
      ms: 300,
      rescueErrors: [],
      warnings: [],
      stepTimes: { a: 200, b: 100 },
      rescueTimes: {},
    });
  });

  it('stops at the first failure and runs its rescue to the end, even past a failing rescue step', async () => {
    const h = setup((line) => line === 'false' || line === 'undo 1');
    const rescued: Step[] = [];
    const result = await runPlan(
      {
        steps: [run('a', 'echo', 'a'), run('b', 'false'), run('c', 'echo', 'never')],
        onFailure: (failed) => {
          rescued.push(failed);
          return [run('undo-1', 'undo', '1'), run('undo-2', 'undo', '2')];
        },
      },
      h.handlers,
      h.options,
    );
    expect(h.runner.commands).toEqual(['echo a', 'false', 'undo 1', 'undo 2']);
    expect(rescued.map((s) => s.id)).toEqual(['b']);
    expect(result).toMatchObject({
      ok: false,
      failedStep: 'b',
      error: 'recording: `false` exited 1:\nboom',
      rescueErrors: ['undo-1: recording: `undo 1` exited 1:\nboom'],
      stepTimes: { a: 100 },
      rescueTimes: { 'undo-2': 100 },
      ms: 400,
    });
    // The error as the handler threw it, for callers that rethrow it.
    expect(result.failed?.error).toBeInstanceOf(CommandError);
    expect(h.events.slice(2)).toEqual([
      'plan 2/3 start run b',
      'plan 2/3 failed run b 100',
      'rescue 1/2 start run undo-1',
      'rescue 1/2 failed run undo-1 100',
      'rescue 2/2 start run undo-2',
      'rescue 2/2 done run undo-2 100',
    ]);
  });

  it('goes on past an optional step that fails, and lists it and handler warnings as warnings', async () => {
    const h = setup((line) => line.startsWith('prune'));
    const result = await runPlan(
      {
        steps: [
          run('prune', 'prune', 'old'),
          { kind: 'note', title: 'disk nearly full', text: '91% used' },
          run('b', 'echo', 'b'),
        ],
        optional: (s) => s.id === 'prune',
        onFailure: () => [run('undo', 'undo')],
      },
      h.handlers,
      h.options,
    );
    expect(h.runner.commands).toEqual(['prune old', 'echo b']);
    expect(result.ok).toBe(true);
    // A step without an id is named by its title.
    expect(result.warnings).toEqual([
      'prune: recording: `prune old` exited 1:\nboom',
      'disk nearly full: 91% used',
    ]);
    expect(result.stepTimes).toEqual({ 'disk nearly full': 0, b: 100 });
  });

  it('with no rescue given, a failure just stops the plan', async () => {
    const h = setup(() => true);
    const result = await runPlan({ steps: [run('a', 'false'), run('b', 'echo')] }, h.handlers, h.options);
    expect(h.runner.commands).toEqual(['false']);
    expect(result).toMatchObject({ ok: false, failedStep: 'a', rescueErrors: [], rescueTimes: {} });
  });
});

describe('runPlan with groups (one round trip for steps in a row)', () => {
  /** The group runner a domain gives: one call per group, stopping at a failure that is not optional. */
  function grouped(h: ReturnType<typeof setup>, optional: (s: Step) => boolean = () => false) {
    const calls: string[][] = [];
    const group = async (steps: readonly Step[]) => {
      calls.push(steps.map((s) => s.id ?? s.title));
      const parts = [];
      for (const s of steps) {
        const r = await h.runner.run((s as Extract<Step, { kind: 'run' }>).argv, { check: false });
        parts.push({ ms: 10, ...(r.code ? { error: new Error(`${s.id} exited ${r.code}`) } : {}) });
        if (r.code && !optional(s)) break;
      }
      return parts;
    };
    return { calls, options: { ...h.options, group } };
  }
  const groupKey = (s: Step) => (s.kind === 'run' ? 'vm' : undefined);

  it('runs consecutive steps of one key in one call, and still reports and times each', async () => {
    const h = setup();
    const g = grouped(h);
    const note: Step = { kind: 'note', title: 'between', text: '' };
    const result = await runPlan(
      { steps: [run('a', 'a'), run('b', 'b'), note, run('c', 'c'), run('d', 'd')], groupKey },
      h.handlers,
      g.options,
    );
    expect(g.calls).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(result).toMatchObject({ ok: true, stepTimes: { a: 10, b: 10, between: 0, c: 10, d: 10 } });
    expect(h.events.slice(0, 4)).toEqual([
      'plan 1/5 start run a',
      'plan 1/5 done run a 10',
      'plan 2/5 start run b',
      'plan 2/5 done run b 10',
    ]);
  });

  it('a step failing inside a group stops the plan there, names it, and rescues for it', async () => {
    const h = setup((line) => line === 'b');
    const g = grouped(h);
    const rescued: string[] = [];
    const result = await runPlan(
      {
        steps: [run('a', 'a'), run('b', 'b'), run('c', 'c')],
        groupKey,
        onFailure: (s) => {
          rescued.push(s.id ?? '');
          return [run('undo', 'undo'), run('undo-2', 'undo-2')];
        },
      },
      h.handlers,
      g.options,
    );
    // The rescue runs step by step, never as a group.
    expect(g.calls).toEqual([['a', 'b', 'c']]);
    expect(h.runner.commands).toEqual(['a', 'b', 'undo', 'undo-2']);
    expect(rescued).toEqual(['b']);
    expect(result).toMatchObject({ ok: false, failedStep: 'b', error: 'b exited 1', stepTimes: { a: 10 } });
  });

  it('an optional step failing inside a group is a warning, and the group goes on', async () => {
    const h = setup((line) => line === 'prune');
    const optional = (s: Step) => s.id === 'prune';
    const g = grouped(h, optional);
    const result = await runPlan(
      { steps: [run('prune', 'prune'), run('audit', 'audit')], groupKey, optional },
      h.handlers,
      g.options,
    );
    expect(h.runner.commands).toEqual(['prune', 'audit']);
    expect(result).toMatchObject({ ok: true, warnings: ['prune: prune exited 1'], stepTimes: { audit: 10 } });
  });

  it('a group that dies fails its first step; one that stops early fails the step it never ran', async () => {
    const h = setup();
    const dies = await runPlan({ steps: [run('a', 'a'), run('b', 'b')], groupKey }, h.handlers, {
      ...h.options,
      group: async () => {
        throw new Error('ssh: connection lost');
      },
    });
    expect(dies).toMatchObject({ ok: false, failedStep: 'a', error: 'ssh: connection lost' });
    const short = await runPlan({ steps: [run('a', 'a'), run('b', 'b')], groupKey }, h.handlers, {
      ...h.options,
      group: async () => [{ ms: 5 }],
    });
    expect(short).toMatchObject({
      ok: false,
      failedStep: 'b',
      error: 'not run: the group stopped before it, after a',
      stepTimes: { a: 5 },
    });
  });
});

describe('poll', () => {
  const wait = { timeoutMs: 1000, intervalMs: 300 };
  const expired = (last: string) => new Error(`not ready: ${last}`);

  it('tries every interval until the attempt says done', async () => {
    const clock = fakeClock();
    const runner = new RecordingRunner(() => ({ stdout: clock.t < 600 ? 'starting' : 'running' }));
    const attempt = async () => {
      const out = (await runner.run(['systemctl', 'is-system-running'])).stdout;
      return out === 'running' ? undefined : `got ${out}`;
    };
    await poll(wait, clock, attempt, expired);
    expect(runner.commands.length).toBe(3);
    expect(clock.t).toBe(600);
  });

  it('waits the timeout, no longer, then throws what the last attempt saw', async () => {
    const clock = fakeClock();
    let n = 0;
    const attempt = async () => `attempt ${++n}`;
    await expect(poll({ timeoutMs: 900, intervalMs: 300 }, clock, attempt, expired)).rejects.toThrow(
      'not ready: attempt 4',
    );
    expect(clock.t).toBe(900);
  });

  it('ends at once when an attempt throws (a final bad answer)', async () => {
    const clock = fakeClock();
    const attempt = async () => {
      throw new Error('degraded');
    };
    await expect(poll(wait, clock, attempt, expired)).rejects.toThrow('degraded');
    expect(clock.t).toBe(0);
  });
});
