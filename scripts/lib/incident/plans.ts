// Pure: the incident levers as deploy-style plans (lib/deploy/plan.ts), so the deploy's executor
// runs them with its progress, rescue and dry run. The incident connects as the admin user
// (it restarts system services); steps that touch the deploy's files run as the deploy user so
// /srv/app keeps its owner.
import { readyProbe, sh } from '../deploy/commands.ts';
import { type Colour, containerName } from '../deploy/layout.ts';
import { type Actor, audit, lock, type Plan, run, type Step, unlock } from '../deploy/plan.ts';
import type { ActiveState } from '../deploy/state.ts';
import { killSwitchCommand, sudo } from './probes.ts';

export const SERVICES = ['app', 'proxy', 'db', 'redis'] as const;

/** A restart holds the deploy lock as a lease with no heartbeat: long enough for its waits (60 s
 * each), short enough that a restart whose session died frees the deploys soon. */
export const RESTART_LEASE_S = 300;
export type Service = (typeof SERVICES)[number];

/** Systemd units behind each service but the app (a container). */
export const UNITS: Record<Exclude<Service, 'app'>, string> = {
  proxy: 'caddy',
  db: 'mariadb',
  redis: 'redis-server',
};

export class PlanError extends Error {}

const asUser = (user: string, step: Step): Step =>
  step.kind === 'upload' || step.kind === 'save'
    ? step
    : { ...step, argv: ['sudo', '-n', '-u', user, ...step.argv] };

const wait = (id: string, title: string, argv: string[], expect?: string, timeoutMs = 60_000): Step => ({
  kind: 'wait',
  id,
  title,
  host: 'vm',
  argv,
  ...(expect === undefined ? {} : { expect }),
  timeoutMs,
  intervalMs: 500,
});

/** The HTTP status of /readyz through the proxy, as the VM sees it. */
export const siteReadyCode = (domain: string) =>
  sh(
    'curl -sk -o /dev/null --max-time 5 -w "%{http_code}" --resolve "$1:443:127.0.0.1" "https://$1/readyz"',
    domain,
  );

const serviceSteps = (service: Service, active: ActiveState | undefined): Step[] => {
  if (service === 'app') {
    if (!active) throw new PlanError('nothing is deployed: there is no app container to restart');
    const c: Colour = active.colour;
    return [
      // `docker restart` also starts a stopped container: the same lever for both faults.
      run(
        'restart',
        `restart ${containerName(c)}`,
        'vm',
        sudo(['docker', 'restart', '--time', '30', containerName(c)]),
      ),
      // Its loopback port answers anyone on the VM: no sudo.
      wait('ready', `wait for ${containerName(c)} /readyz`, readyProbe(c)),
    ];
  }
  const unit = UNITS[service];
  const health: Record<Exclude<Service, 'app'>, Step[]> = {
    proxy: [],
    db: [wait('ping', 'wait for mysqladmin ping', sudo(['mysqladmin', '--connect-timeout=3', 'ping']))],
    redis: [
      wait(
        'ping',
        'wait for redis PING',
        sh('timeout 3 redis-cli -h 127.0.0.1 ping 2>&1 | grep -qE "^(PONG|NOAUTH)"'),
      ),
    ],
  };
  return [
    run('restart', `restart ${unit}`, 'vm', sudo(['systemctl', 'restart', unit])),
    wait('active', `wait for ${unit} to be active`, ['systemctl', 'is-active', unit], 'active'),
    ...health[service],
  ];
};

export function restartPlan(
  service: Service,
  p: { active?: ActiveState; domain: string; actor: Actor; deployUser: string },
): Plan {
  const steps = serviceSteps(service, p.active);
  // With nothing deployed the proxy serves the maintenance page: a 503 is then the healthy answer.
  const site = p.active
    ? [wait('site', 'wait for /readyz through the proxy to answer 200', siteReadyCode(p.domain), '200')]
    : [];
  const du = (s: Step) => asUser(p.deployUser, s);
  return {
    action: 'restart',
    summary: `restart ${service}${service === 'app' && p.active ? ` (${containerName(p.active.colour)})` : ''}`,
    steps: [
      du(lock(p.actor, `incident restart ${service}`, RESTART_LEASE_S)),
      ...steps,
      ...site,
      du(audit(p.actor, { event: 'restart', service, outcome: 'done' })),
      du(unlock(p.actor)),
    ],
    rescueBeforeSwitch: [
      du(audit(p.actor, { event: 'restart', service, outcome: 'failed' })),
      du(unlock(p.actor)),
    ],
    rescueAfterSwitch: [],
  };
}

/**
 * No lock: the switch must work while a deploy hangs or holds the lock, which is when an
 * operator reaches for it. Audited like a deploy.
 */
export function killSwitchPlan(
  action: 'on' | 'off',
  p: { active?: ActiveState; reason?: string; actor: Actor; deployUser: string },
): Plan {
  if (!p.active) throw new PlanError('nothing is deployed: no app container to run the kill switch in');
  const reason = p.reason ?? 'incident kill switch';
  return {
    action: 'kill-switch',
    summary: `kill switch ${action}${action === 'on' ? ` ("${reason}")` : ''} through ${containerName(p.active.colour)}`,
    steps: [
      run('switch', `kill-switch ${action}`, 'vm', killSwitchCommand(p.active.colour, action, reason)),
      asUser(
        p.deployUser,
        audit(p.actor, { event: 'kill-switch', action, ...(action === 'on' ? { reason } : {}) }),
      ),
    ],
    rescueBeforeSwitch: [],
    rescueAfterSwitch: [],
  };
}
