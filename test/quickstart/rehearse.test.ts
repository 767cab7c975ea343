// The README's quick start exactly as written (issue 16): `npm run rehearse` on a twin that
// nothing else has touched (no earlier e2e file, no apt update), then one request to the site,
// which must answer with this commit's release. The e2e suite after it makes its own twin.
import { execFileSync, spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseId } from '../../scripts/lib/image/plan.ts';

const root = resolve(import.meta.dirname, '..', '..');
const httpsPort = Number(process.env.E2M_TWIN_HTTPS_PORT ?? 8443);

function npm(...args: string[]): number | null {
  const r = spawnSync('npm', args, { cwd: root, stdio: 'inherit', timeout: 40 * 60_000 });
  return r.status;
}

function git(...args: string[]): string {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
}

/**
 * One GET, no retry (a newcomer's curl does not retry either), as `curl -k https://localhost:8443`
 * sends it: Caddy routes by the Host header and answers an empty 200 to a host it does not serve.
 * The twin's CA is Caddy's own.
 */
function get(path: string): Promise<{ status: number; release: string | undefined; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: httpsPort,
        path,
        servername: 'localhost',
        headers: { host: `localhost:${httpsPort}` },
        rejectUnauthorized: false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          ok({ status: res.statusCode ?? 0, release: res.headers['x-release'] as string | undefined, body }),
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from https://localhost:${httpsPort}${path} in 10s`)),
    );
    req.on('error', fail);
    req.end();
  });
}

describe('quick start: npm run rehearse on an untouched twin', () => {
  beforeAll(() => {
    // A twin left by an earlier run would not be what a newcomer meets: remove it first.
    expect(npm('run', '-s', 'twin', '--', 'down')).toBe(0);
  });

  afterAll(() => {
    if (process.env.E2M_KEEP_TWIN !== '1') npm('run', '-s', 'twin', '--', 'down');
  });

  it("brings up the twin, converges it, deploys, and the site answers with this commit's X-Release", async () => {
    expect(npm('run', 'rehearse'), 'npm run rehearse exit code').toBe(0);
    const commitTime = new Date(Number(git('log', '-1', '--format=%ct')) * 1000);
    const dirty = git('status', '--porcelain', '--', 'backend') !== '';
    const expected = releaseId(commitTime, git('rev-parse', 'HEAD'), dirty);
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    expect(res.release).toBe(expected);
  });
});
