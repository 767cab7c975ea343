// The deploy's progress lines, to the letter (colours aside): VM and Cloud Run print these.
import { stripVTControlCharacters as plain } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stepLine } from './progress.ts';

const step = { kind: 'run', id: 'migrate', title: 'run the migrations' };

describe('stepLine', () => {
  it('numbers plan steps, tags rescue steps, and gives each end its time', () => {
    const at = { index: 1, total: 7, step };
    expect(plain(stepLine({ type: 'start', ...at, phase: 'plan' }, 12_345))).toBe(
      '[12.3s] 2/7 run the migrations',
    );
    expect(plain(stepLine({ type: 'start', ...at, phase: 'rescue' }, 400))).toBe(
      '[0.4s] rescue run the migrations',
    );
    expect(plain(stepLine({ type: 'done', ...at, ms: 1500, phase: 'plan' }, 0))).toBe('      ok (1.5s)');
    expect(plain(stepLine({ type: 'failed', ...at, ms: 250, error: 'exit 1', phase: 'plan' }, 0))).toBe(
      '      FAILED at migrate after 0.3s: exit 1',
    );
  });
});
