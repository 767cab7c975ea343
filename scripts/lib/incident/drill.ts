// The kill-switch drill: which routes must answer what while the switch is on and after, where
// it may run, and the judgement of what was measured. Pure; the entry does the requests.
import type { TargetName } from '../target.ts';

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /** Exempt from the kill switch: probes and load balancers keep seeing the truth. */
  health: boolean;
}

/**
 * Every route of the backend a client can reach (README "The backend"), with an id no note has
 * and bodies no route accepts, so a drill never writes. /readyz is not among them: the proxy
 * answers it only on the VM itself, and `incident status` checks it there.
 */
export const DRILL_ROUTES: Route[] = [
  { method: 'GET', path: '/notes', health: false },
  { method: 'POST', path: '/notes', health: false },
  { method: 'GET', path: '/notes/no-such-note', health: false },
  { method: 'PATCH', path: '/notes/no-such-note', health: false },
  { method: 'DELETE', path: '/notes/no-such-note', health: false },
  { method: 'GET', path: '/healthz', health: true },
];

/** The switch must take effect within this (the app polls Redis every KILL_SWITCH_POLL_MS). */
export const SWITCH_LIMIT_MS = 1_000;

export function drillAllowed(target: TargetName, force: boolean): string | undefined {
  if (target === 'twin' || target === 'staging' || force) return undefined;
  return `the drill takes ${target} down for a few seconds: run it on twin or staging, or pass --force`;
}

export interface RouteResult extends Route {
  status: number;
}

/** While on: health 200, everything else 503. After: nothing answers 503 and health is 200. */
export function judgeRoutes(results: RouteResult[], phase: 'on' | 'off'): string[] {
  return results.flatMap((r) => {
    const ok = r.health
      ? r.status === 200
      : phase === 'on'
        ? r.status === 503
        : r.status !== 503 && r.status !== 0;
    if (ok) return [];
    const want = r.health ? '200' : phase === 'on' ? '503' : 'anything but 503';
    return [`${phase}: ${r.method} ${r.path} answered ${r.status || 'nothing'}, want ${want}`];
  });
}
