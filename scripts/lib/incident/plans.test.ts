import { describe, expect, it } from 'vitest';
import { actor } from '../../../test/support/deploy-fixtures.ts';
import * as cmd from '../deploy/commands.ts';
import { holderJson, leaseToken } from '../deploy/plan.ts';
import type { ActiveState } from '../deploy/state.ts';
import { toShell } from '../runner.ts';
import { type Collect, diagCollects, REDACTED, redact, redactEnvFile, secretValues } from './diag.ts';
import { DRILL_ROUTES, drillAllowed, judgeRoutes } from './drill.ts';
import { LogArgsError, logsCommand, sinceFor } from './logs.ts';
import { killSwitchPlan, PlanError, RESTART_LEASE_S, restartPlan } from './plans.ts';

const active: ActiveState = {
  colour: 'green',
  release: 'v2',
  image: 'e2m/backend:v2',
  since: '2026-11-22T11:00:00Z',
};
const lines = (steps: { argv?: string[]; kind: string }[]) =>
  steps.map((s) => ('argv' in s && s.argv ? toShell(s.argv) : s.kind));

describe('restart plans', () => {
  it('app: lock as the deploy user, restart the serving container, wait ready and the site, audit, unlock', () => {
    const plan = restartPlan('app', { active, domain: 'example.com', actor, deployUser: 'deploy' });
    expect(plan.summary).toBe('restart app (e2m-app-green)');
    expect(lines(plan.steps)).toEqual([
      `sudo -n -u deploy ${toShell(cmd.takeLock(holderJson(actor, 'incident restart app'), RESTART_LEASE_S))}`,
      'sudo -n docker restart --time 30 e2m-app-green',
      'curl -sf -o /dev/null --max-time 2 http://127.0.2.2:3000/readyz',
      `sh -c 'curl -sk -o /dev/null --max-time 5 -w "%{http_code}" --resolve "$1:443:127.0.0.1" "https://$1/readyz"' sh example.com`,
      `sudo -n -u deploy sh -c 'printf "%s\\n" "$1" >> "$2"' sh '{"time":"2026-11-23T04:00:00.000Z","who":"dev@example.com","from":"laptop","event":"restart","service":"app","outcome":"done"}' /srv/app/audit.jsonl`,
      `sudo -n -u deploy ${toShell(cmd.releaseLock(leaseToken(actor)))}`,
    ]);
    expect(plan.steps[3]).toMatchObject({ kind: 'wait', expect: '200' });
    expect(lines(plan.rescueBeforeSwitch)).toEqual([
      `sudo -n -u deploy sh -c 'printf "%s\\n" "$1" >> "$2"' sh '{"time":"2026-11-23T04:00:00.000Z","who":"dev@example.com","from":"laptop","event":"restart","service":"app","outcome":"failed"}' /srv/app/audit.jsonl`,
      `sudo -n -u deploy ${toShell(cmd.releaseLock(leaseToken(actor)))}`,
    ]);
  });

  it('db, redis, proxy: the unit, its own answer, then the site', () => {
    const db = restartPlan('db', { active, domain: 'example.com', actor, deployUser: 'deploy' });
    expect(lines(db.steps).slice(1, 5)).toEqual([
      'sudo -n systemctl restart mariadb',
      'systemctl is-active mariadb',
      'sudo -n mysqladmin --connect-timeout=3 ping',
      `sh -c 'curl -sk -o /dev/null --max-time 5 -w "%{http_code}" --resolve "$1:443:127.0.0.1" "https://$1/readyz"' sh example.com`,
    ]);
    const redis = restartPlan('redis', { active, domain: 'example.com', actor, deployUser: 'deploy' });
    expect(lines(redis.steps)[3]).toBe(
      `sh -c 'timeout 3 redis-cli -h 127.0.0.1 ping 2>&1 | grep -qE "^(PONG|NOAUTH)"' sh`,
    );
    const proxy = restartPlan('proxy', { domain: 'example.com', actor, deployUser: 'deploy' });
    // Nothing deployed: the maintenance page's 503 is right, so no site wait.
    expect(lines(proxy.steps).slice(1, -2)).toEqual([
      'sudo -n systemctl restart caddy',
      'systemctl is-active caddy',
    ]);
  });

  it('refuses an app restart with nothing deployed', () => {
    expect(() => restartPlan('app', { domain: 'd', actor, deployUser: 'deploy' })).toThrow(PlanError);
  });
});

describe('kill switch plan', () => {
  it('runs the binary in the serving colour and audits, without the deploy lock', () => {
    const plan = killSwitchPlan('on', { active, reason: 'incident 42', actor, deployUser: 'deploy' });
    expect(lines(plan.steps)).toEqual([
      "sudo -n docker exec e2m-app-green /app/server kill-switch on --reason 'incident 42'",
      `sudo -n -u deploy sh -c 'printf "%s\\n" "$1" >> "$2"' sh '{"time":"2026-11-23T04:00:00.000Z","who":"dev@example.com","from":"laptop","event":"kill-switch","action":"on","reason":"incident 42"}' /srv/app/audit.jsonl`,
    ]);
    expect(lines(killSwitchPlan('off', { active, actor, deployUser: 'deploy' }).steps)[0]).toBe(
      'sudo -n docker exec e2m-app-green /app/server kill-switch off',
    );
    expect(() => killSwitchPlan('on', { actor, deployUser: 'deploy' })).toThrow(/nothing is deployed/);
  });
});

describe('logs', () => {
  it('spells --since for journalctl and docker', () => {
    expect(sinceFor('10m')).toEqual({ journal: '-10min', docker: '10m' });
    expect(sinceFor('2d')).toEqual({ journal: '-2d', docker: '48h' });
    expect(sinceFor('2026-11-23T04:00:00Z')).toEqual({
      journal: '2026-11-23 04:00:00',
      docker: '2026-11-23T04:00:00Z',
    });
    expect(() => sinceFor('yesterday')).toThrow(LogArgsError);
  });

  it('builds one command per source', () => {
    expect(toShell(logsCommand({ source: 'app', active }))).toBe(
      'sudo -n docker logs --timestamps --tail 200 e2m-app-green',
    );
    expect(toShell(logsCommand({ source: 'db', since: '1h', follow: true }))).toBe(
      'sudo -n journalctl --no-pager --output short-iso --unit mariadb --since -1h --follow',
    );
    expect(toShell(logsCommand({ source: 'system', lines: 50 }))).toBe(
      'sudo -n journalctl --no-pager --output short-iso --lines 50',
    );
    expect(toShell(logsCommand({ source: 'proxy', grep: "it's 502" }))).toBe(
      `sh -c 'p=$1; shift; "$@" 2>&1 | grep --line-buffered -e "$p"' sh 'it'\\''s 502' sudo -n journalctl --no-pager --output short-iso --unit caddy --lines 200`,
    );
    expect(() => logsCommand({ source: 'app' })).toThrow(/nothing is deployed/);
  });
});

describe('diag redaction', () => {
  const env = [
    '# Managed by Ansible',
    'APP_ENV=staging',
    'DATABASE_URL=mysql://app:s3cr%2Ft-pass@10.213.0.1:3306/app',
    'REDIS_URL=redis://:r3dis-pass-123@10.213.0.1:6379/0',
    'SENTRY_DSN=',
    'LOG_LEVEL=info',
  ].join('\n');

  it('finds each value and the passwords inside URLs, longest first', () => {
    expect(secretValues(env)).toEqual([
      'mysql://app:s3cr%2Ft-pass@10.213.0.1:3306/app',
      'redis://:r3dis-pass-123@10.213.0.1:6379/0',
      'r3dis-pass-123',
      's3cr%2Ft-pass',
      's3cr/t-pass',
    ]);
  });

  it('leaves no secret in any text, and shows app.env keys without values', () => {
    const secrets = secretValues(env);
    const inspect = '"Env": ["DATABASE_URL=mysql://app:s3cr%2Ft-pass@10.213.0.1:3306/app", "X=s3cr/t-pass"]';
    expect(redact(inspect, secrets)).toBe(`"Env": ["DATABASE_URL=${REDACTED}", "X=${REDACTED}"]`);
    expect(redactEnvFile(env)).toBe(
      [
        '# Managed by Ansible',
        'APP_ENV=staging',
        `DATABASE_URL=${REDACTED}`,
        `REDIS_URL=${REDACTED}`,
        'SENTRY_DSN=',
        `LOG_LEVEL=${REDACTED}`,
      ].join('\n'),
    );
  });

  it('collects journals, both colours, config and state', () => {
    const files = diagCollects().map((c: Collect) => c.file);
    expect(files).toContain('journal/caddy.log');
    expect(files).toContain('docker/e2m-app-blue.inspect.json');
    expect(files).toContain('docker/e2m-app-green.log');
    expect(files).toContain('config/app.env');
    expect(files).toContain('backup/last.json');
    expect(new Set(files).size).toBe(files.length);
  });
});

describe('drill', () => {
  it('runs on twin and staging; prod and dev need --force', () => {
    expect(drillAllowed('twin', false)).toBeUndefined();
    expect(drillAllowed('staging', false)).toBeUndefined();
    expect(drillAllowed('prod', false)).toBe(
      'the drill takes prod down for a few seconds: run it on twin or staging, or pass --force',
    );
    expect(drillAllowed('prod', true)).toBeUndefined();
  });

  it('wants 503 on every route but health while on, and no 503 after', () => {
    const all = (s: number, health = 200) =>
      DRILL_ROUTES.map((r) => ({ ...r, status: r.health ? health : s }));
    expect(judgeRoutes(all(503), 'on')).toEqual([]);
    expect(judgeRoutes(all(404), 'off')).toEqual([]);
    const leaky = all(503).map((r) => (r.method === 'DELETE' ? { ...r, status: 404 } : r));
    expect(judgeRoutes(leaky, 'on')).toEqual(['on: DELETE /notes/no-such-note answered 404, want 503']);
    expect(judgeRoutes(all(503, 503), 'off')).toContain('off: GET /healthz answered 503, want 200');
  });
});
