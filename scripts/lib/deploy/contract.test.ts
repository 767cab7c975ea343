import { describe, expect, it } from 'vitest';
import { judgeDrain, judgeMigrate, judgeReady, judgeRun, parseReadyProbe } from './contract.ts';

// The app contract's verdicts, from probe output as the VM prints it: each names the missing piece.
const probe = (p: {
  state?: string;
  healthz?: string;
  readyz?: string;
  headers?: string[];
  body?: string;
  log?: string;
}) =>
  [
    '--- state',
    p.state ?? 'running 0 0',
    '--- healthz',
    p.healthz ?? '200',
    '--- readyz',
    ...(p.readyz === '000'
      ? ['']
      : [
          `HTTP/1.1 ${p.readyz ?? '200'} X\r`,
          ...(p.headers ?? ['x-release: r2']).map((h) => `${h}\r`),
          'content-type: application/json\r',
          '\r',
          p.body ?? '{"ready":true}',
        ]),
    '--- log',
    p.log ?? 'listening on 3000',
    '',
  ].join('\n');

const judge = (p: Parameters<typeof probe>[0], release = 'r2') =>
  judgeReady(parseReadyProbe(probe(p)), release);

describe('the ready probe', () => {
  it('parses state, both codes, the release header and the body', () => {
    expect(parseReadyProbe(probe({ readyz: '503', body: '{"why":"database"}' }))).toEqual({
      state: 'running',
      exitCode: 0,
      restarts: 0,
      healthz: '200',
      readyz: '503',
      release: 'r2',
      body: '{"why":"database"}',
      log: 'listening on 3000',
    });
    expect(parseReadyProbe(probe({ readyz: '000', healthz: '000' }))).toMatchObject({
      readyz: '000',
      healthz: '000',
    });
    expect(parseReadyProbe('')).toMatchObject({ state: 'missing', readyz: '000', healthz: '000' });
  });

  it('is ready with both routes 200 and the release echoed (header names are case-insensitive)', () => {
    expect(judge({})).toEqual({ kind: 'ready' });
    expect(judge({ headers: ['X-Release: r2'] })).toEqual({ kind: 'ready' });
  });

  it('waits while nothing listens yet, or /readyz answers 503, naming what it waits for', () => {
    expect(judge({ readyz: '000', healthz: '000' })).toEqual({
      kind: 'wait',
      why: 'nothing answers on port 3000 of the container: the contract needs the app to listen on 0.0.0.0:$PORT (3000) (its last log: listening on 3000)',
    });
    expect(judge({ readyz: '503', body: '{"why":"database"}' })).toEqual({
      kind: 'wait',
      why: '/readyz answered 503: {"why":"database"}',
    });
  });

  it('fails at once, naming the piece, when a route is missing', () => {
    expect(judge({ readyz: '404' })).toEqual({
      kind: 'broken',
      why: '/readyz answered 404: the contract needs GET /readyz (200 once it can serve)',
    });
    expect(judge({ healthz: '404' })).toEqual({
      kind: 'broken',
      why: '/healthz answered 404: the contract needs GET /healthz (200 while the process lives)',
    });
  });

  it('fails at once when the release is not echoed as X-Release', () => {
    expect(judge({ headers: [] })).toEqual({
      kind: 'broken',
      why: '/readyz answered without an X-Release header, want "r2": the contract needs the RELEASE variable sent back as X-Release',
    });
    expect(judge({ headers: ['x-release: dev'] }).kind).toBe('broken');
  });

  it('fails at once when the container exited or restarts, with its last log line', () => {
    expect(judge({ state: 'restarting 2 1', log: 'unknown flag: --no-such-flag' })).toEqual({
      kind: 'broken',
      why: 'the container exited with code 2 before it was ready (its last log: unknown flag: --no-such-flag): the contract needs `IMAGE serve` to keep serving',
    });
    expect(judge({ state: 'running 1 3' }).kind).toBe('broken');
    expect(judge({ state: 'missing' })).toEqual({ kind: 'broken', why: 'the container is gone' });
  });
});

const result = (code: number, stdout = '', stderr = '') => ({ code, stdout, stderr });

describe('migrate', () => {
  it('names a missing command, a hang and a failed migration apart', () => {
    expect(judgeMigrate(result(0, 'migrated'))).toBeUndefined();
    expect(judgeMigrate(result(2, '', 'unknown command: migrate'))).toBe(
      'the image has no `migrate` command (exit 2: unknown command: migrate): the contract needs `IMAGE migrate` to apply the migrations and exit 0',
    );
    expect(judgeMigrate(result(127, '', 'exec: "migrate": executable file not found in $PATH'))).toContain(
      'the image has no `migrate` command (exit 127',
    );
    expect(judgeMigrate(result(124))).toBe(
      '`IMAGE migrate` did not exit within 300 s: the contract needs `migrate` to apply the migrations and exit (does the image ignore its command and serve?)',
    );
    expect(judgeMigrate(result(1, '', 'a\nb\nc\nDuplicate column'))).toBe(
      '`IMAGE migrate` exited 1: b | c | Duplicate column',
    );
    expect(judgeMigrate(result(125, '', 'Conflict. The container name is in use'))).toBe(
      'docker could not run the image (exit 125): Conflict. The container name is in use',
    );
  });
});

describe('drain', () => {
  it('warns about a release that was killed or died without draining; a clean exit says nothing', () => {
    expect(judgeDrain(result(0, '0\n'), 'e2m-app-blue', 30)).toBeUndefined();
    expect(judgeDrain(result(0, '137\n'), 'e2m-app-blue', 30)).toBe(
      'e2m-app-blue did not stop within 30 s of SIGTERM and was killed: the contract needs the app to drain and exit 0 on SIGTERM',
    );
    expect(judgeDrain(result(0, '143\n'), 'e2m-app-blue', 30)).toContain('died of SIGTERM without draining');
  });

  it('is a warning, not an error, unless docker stop itself failed', () => {
    const check = { kind: 'drain', container: 'e2m-app-blue', timeoutS: 30 } as const;
    expect(judgeRun(check, result(0, '137'))).toEqual({
      warning: expect.stringContaining('was killed'),
    });
    expect(judgeRun(check, result(1, '', 'No such container'))).toEqual({
      error: 'docker stop exited 1: No such container',
    });
    expect(judgeRun({ kind: 'migrate' }, result(0))).toBeUndefined();
  });
});
