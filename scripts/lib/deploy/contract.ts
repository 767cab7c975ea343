// Pure: the app contract (docs/app-contract.md) as the deploy checks it. The probes' output
// (commands.ts) goes in, a verdict comes out that names the piece of the contract an image
// misses, so a deploy of any app fails with "the contract needs /readyz", not "health check
// failed". No I/O here.
import type { RunResult } from '../runner.ts';
import { APP_PORT, type Colour, MIGRATE_TIMEOUT_S } from './layout.ts';
import { describeDestructive, destructiveStatements, parseMigrationPlan } from './migrations.ts';

export const CONTRACT_DOC = 'docs/app-contract.md';

/** Which judge a step's result goes through (the executor looks it up; steps stay plain data). */
export type StepCheck =
  | { kind: 'ready'; release: string; colour: Colour }
  | { kind: 'migrate' }
  /** `IMAGE migrate --dry-run`: refuse a destructive migration unless it is allowed. */
  | { kind: 'migrations'; allowDestructive: boolean }
  | { kind: 'drain'; container: string; timeoutS: number };

/** What the readiness probe (commands.ts `contractProbe`) saw of the new colour. */
export interface ReadyProbe {
  state: string;
  exitCode: number;
  restarts: number;
  healthz: string;
  readyz: string;
  release?: string;
  body: string;
  log: string;
}

export function parseReadyProbe(stdout: string): ReadyProbe {
  const section = (name: string) => {
    const m = new RegExp(`^--- ${name}\\n([\\s\\S]*?)(?=^--- |$(?![\\s\\S]))`, 'm').exec(stdout);
    return (m?.[1] ?? '').replace(/\r/g, '');
  };
  const [state, exit = '0', restarts = '0'] = section('state').trim().split(/\s+/);
  const raw = section('readyz');
  const [head = '', ...rest] = raw.split('\n\n');
  const code = /^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1] ?? '000';
  const release = /^x-release:[ \t]*(.*)$/im.exec(head)?.[1]?.trim();
  return {
    state: state || 'missing',
    exitCode: Number(exit) || 0,
    restarts: Number(restarts) || 0,
    healthz: section('healthz').trim() || '000',
    readyz: code,
    ...(release === undefined ? {} : { release }),
    body: rest.join('\n\n').trim().slice(0, 160),
    log: section('log').trim().split('\n').filter(Boolean).slice(-2).join(' | '),
  };
}

export type ReadyVerdict =
  | { kind: 'ready' }
  /** Not yet: the reason is what a timeout reports. */
  | { kind: 'wait'; why: string }
  /** Waiting longer cannot help: a piece of the contract is missing. */
  | { kind: 'broken'; why: string };

/** Answers that say a route does not exist, as opposed to a route that is not ready yet. */
const NO_ROUTE = new Set(['404', '405', '501']);

export function judgeReady(p: ReadyProbe, release: string): ReadyVerdict {
  const logs = p.log ? ` (its last log: ${p.log})` : '';
  if (p.state === 'missing') return { kind: 'broken', why: 'the container is gone' };
  if (p.state !== 'running' || p.restarts > 0)
    return {
      kind: 'broken',
      why: `the container exited with code ${p.exitCode} before it was ready${logs}: the contract needs \`IMAGE serve\` to keep serving`,
    };
  if (NO_ROUTE.has(p.healthz))
    return {
      kind: 'broken',
      why: `/healthz answered ${p.healthz}: the contract needs GET /healthz (200 while the process lives)`,
    };
  if (NO_ROUTE.has(p.readyz))
    return {
      kind: 'broken',
      why: `/readyz answered ${p.readyz}: the contract needs GET /readyz (200 once it can serve)`,
    };
  if (p.readyz === '000')
    return {
      kind: 'wait',
      why: `nothing answers on port ${APP_PORT} of the container: the contract needs the app to listen on 0.0.0.0:$PORT (${APP_PORT})${logs}`,
    };
  if (p.readyz !== '200')
    return { kind: 'wait', why: `/readyz answered ${p.readyz}${p.body ? `: ${p.body}` : ''}` };
  if (p.healthz !== '200') return { kind: 'wait', why: `/healthz answered ${p.healthz}` };
  if (p.release !== release)
    return {
      kind: 'broken',
      why: `/readyz answered ${p.release === undefined ? 'without an X-Release header' : `X-Release "${p.release}"`}, want "${release}": the contract needs the RELEASE variable sent back as X-Release`,
    };
  return { kind: 'ready' };
}

/** Docker's exit codes for a command the image cannot run (126: not executable, 127: not found). */
const NO_COMMAND = new Set([126, 127]);

const lastLines = (r: RunResult) => (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ');

/** `IMAGE migrate` (commands.ts `migrate`): a failure that names its cause, or undefined. */
export function judgeMigrate(r: RunResult): string | undefined {
  if (r.code === 0) return undefined;
  const out = lastLines(r);
  if (r.code === 124)
    return `\`IMAGE migrate\` did not exit within ${MIGRATE_TIMEOUT_S} s: the contract needs \`migrate\` to apply the migrations and exit (does the image ignore its command and serve?)`;
  if (r.code === 125) return `docker could not run the image (exit 125): ${out}`;
  if (r.code === 2 || NO_COMMAND.has(r.code))
    return `the image has no \`migrate\` command (exit ${r.code}: ${out}): the contract needs \`IMAGE migrate\` to apply the migrations and exit 0`;
  return `\`IMAGE migrate\` exited ${r.code}: ${out}`;
}

/**
 * The old colour's stop (commands.ts `stopColour` prints its exit code). The new colour already
 * serves, so a release that does not drain is a warning about that release, never a rollback.
 */
export function judgeDrain(r: RunResult, container: string, timeoutS: number): string | undefined {
  const code = r.stdout.trim().split('\n').pop() ?? '';
  if (code === '0') return undefined;
  if (code === '137')
    return `${container} did not stop within ${timeoutS} s of SIGTERM and was killed: the contract needs the app to drain and exit 0 on SIGTERM`;
  if (code === '143')
    return `${container} died of SIGTERM without draining (exit 143): the contract needs a SIGTERM handler that finishes requests in flight and exits 0`;
  return `${container} exited ${code || '?'} after SIGTERM: the contract needs it to drain and exit 0`;
}

/**
 * `IMAGE migrate --dry-run` (commands.ts `migrationPlan`). An image that cannot list its
 * migrations gets a warning (the check is the contract's optional part); a destructive one is
 * refused unless allowed, and then needs a dump first.
 */
export function judgeMigrations(
  r: RunResult,
  allowDestructive: boolean,
): { error?: string; warning?: string; dump?: boolean } | undefined {
  const plan = r.code === 0 ? parseMigrationPlan(r.stdout) : undefined;
  if (!plan)
    return {
      warning: `the image did not list its pending migrations (\`IMAGE migrate --dry-run\` exit ${r.code}: ${lastLines(r) || 'no JSON line'}): destructive changes were not checked (${CONTRACT_DOC})`,
    };
  const found = destructiveStatements(plan);
  if (!found.length) return undefined;
  const what = found.map(describeDestructive).join('; ');
  if (!allowDestructive)
    return {
      error: `refusing a destructive migration while the old colour serves and a rollback needs the old schema: ${what}. Deploy with --allow-destructive to run it after a dump (the backup unit), or make it additive`,
    };
  return { warning: `destructive migration allowed (--allow-destructive), dump first: ${what}`, dump: true };
}

/** For a `run` step: an error that fails the step, a warning that does not, or neither. */
export function judgeRun(
  check: StepCheck,
  r: RunResult,
): { error?: string; warning?: string; dump?: boolean } | undefined {
  if (check.kind === 'migrations') return judgeMigrations(r, check.allowDestructive);
  if (check.kind === 'migrate') {
    const error = judgeMigrate(r);
    return error ? { error } : undefined;
  }
  if (check.kind === 'drain') {
    if (r.code !== 0) return { error: `docker stop exited ${r.code}: ${lastLines(r)}` };
    const warning = judgeDrain(r, check.container, check.timeoutS);
    return warning ? { warning } : undefined;
  }
  return undefined;
}

/** What a deploy shows of a colour that never got ready (commands.ts healthReport), so "it did
 * not become healthy" always comes with why: its state, exit code, OOM kill, last /readyz
 * answer and last log lines. */
export interface HealthReport {
  container: string;
  state: string;
  exitCode: number;
  oomKilled: boolean;
  restarts: number;
  /** The last /readyz answer: status line, headers and body (2000 bytes at most), or "no answer". */
  readyz: string;
  logs: string[];
}

export function parseHealthReport(container: string, stdout: string): HealthReport {
  const section = (name: string) =>
    (new RegExp(`^--- ${name}\\n([\\s\\S]*?)(?=^--- |$(?![\\s\\S]))`, 'm').exec(stdout)?.[1] ?? '').replace(
      /\r/g,
      '',
    );
  const [state = 'missing', exit = '0', oom = 'false', restarts = '0'] = section('container')
    .trim()
    .split(/\s+/);
  return {
    container,
    state,
    exitCode: Number(exit) || 0,
    oomKilled: oom === 'true',
    restarts: Number(restarts) || 0,
    readyz: section('readyz').trim() || 'no answer',
    logs: section('log')
      .replace(/\n$/, '')
      .split('\n')
      .filter((l) => l !== ''),
  };
}

/** The report as the deploy prints it under its failure. */
export function healthLines(h: HealthReport): string[] {
  return [
    `${h.container}: ${h.state}, exit code ${h.exitCode}, OOM-killed ${h.oomKilled ? 'yes' : 'no'}, restarts ${h.restarts}`,
    `its last /readyz answer: ${h.readyz.split('\n').join('\n  ')}`,
    `its last ${h.logs.length} log lines:`,
    ...h.logs.map((l) => `  ${l}`),
  ];
}
