// The deploy's progress lines, to the letter (colours aside): VM and Cloud Run print these.
import { stripVTControlCharacters as plain } from 'node:util';
import { describe, expect, it } from 'vitest';
import { outcomeLines, stepLine } from './progress.ts';

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

describe('outcomeLines', () => {
  const words = { done: ': rev-2 serves', sentBack: 'sent back', neverMoved: 'never moved' };
  const base = { ms: 61_000, switched: false, rescueErrors: [], stepTimes: {} };

  it('says done with the time, and lists warnings', () => {
    const lines = outcomeLines('deploy', { ...base, ok: true, warnings: ['prune: busy'] }, words);
    expect(lines.map(plain)).toEqual([
      'deploy done in 61.0s: rev-2 serves',
      'warning (not fatal): prune: busy',
    ]);
  });

  it('names the failed step, where traffic is, and each rescue step that failed', () => {
    const failed = { ...base, ok: false, failedStep: 'verify', error: 'HTTP 502' };
    expect(outcomeLines('deploy', failed, words).map(plain)).toEqual([
      'deploy failed at step "verify": HTTP 502',
      'never moved',
    ]);
    const rescued = { ...failed, switched: true, rescueErrors: ['traffic-back: 409'] };
    expect(outcomeLines('rollback', rescued, words).map(plain)).toEqual([
      'rollback failed at step "verify": HTTP 502',
      'sent back',
      'rescue step failed: traffic-back: 409 (check with: npm run deploy -- status)',
    ]);
  });
});
