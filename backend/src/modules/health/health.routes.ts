import Router from '@koa/router';
import { withTimeout } from '../../kill-switch.ts';

export type Lifecycle = { draining: boolean };
export type DependencyCheck = { name: string; check: () => Promise<unknown> };

/**
 * /healthz: the process is alive (no dependencies, so a slow database never gets it restarted).
 * /readyz: it can serve: not draining, and every dependency answers within the timeout; a 503
 * names what failed so the deploy and the operator see why.
 */
export function healthRouter(lifecycle: Lifecycle, deps: DependencyCheck[], timeoutMs: number): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    if (lifecycle.draining) {
      ctx.status = 503;
      ctx.body = { status: 'draining' };
      return;
    }
    const results = await Promise.all(
      deps.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), timeoutMs);
          return { name, ok: true as const };
        } catch (e) {
          return { name, ok: false as const, error: (e as Error).message };
        }
      }),
    );
    const failed = results.filter((r) => !r.ok);
    ctx.status = failed.length ? 503 : 200;
    ctx.body = {
      status: failed.length ? 'unavailable' : 'ok',
      ...(failed.length ? { failed: failed.map((f) => f.name) } : {}),
      checks: Object.fromEntries(results.map((r) => [r.name, r.ok ? 'ok' : r.error])),
    };
  });
  return router;
}
