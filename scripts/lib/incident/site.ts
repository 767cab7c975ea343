// The site as a client sees it, from this machine: HTTPS with the domain as SNI and Host, to the
// target's HTTPS URL (the twin publishes 443 on a loopback port). Certificates are verified for
// ACME targets only: the twin's Caddy uses its internal CA, which this machine does not trust.
import { request } from 'node:https';

export interface SiteTarget {
  httpsUrl: string;
  domain: string;
  tlsMode: 'internal' | 'acme';
}

export function siteStatus(t: SiteTarget, method: string, path: string, timeoutMs = 3_000): Promise<number> {
  const { hostname, port } = new URL(t.httpsUrl);
  // An empty object is an invalid note: should a route not be switched off, nothing is written.
  const body = method === 'POST' || method === 'PATCH' ? '{}' : undefined;
  return new Promise((resolve) => {
    const req = request(
      {
        host: hostname,
        port: Number(port || 443),
        path,
        method,
        servername: t.domain,
        rejectUnauthorized: t.tlsMode === 'acme',
        headers: { host: t.domain, ...(body ? { 'content-type': 'application/json' } : {}) },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    // 0 stands for "no HTTP answer": refused, reset or timed out.
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Polls until `path` answers `want`; the milliseconds it took, or undefined after `limitMs`. */
export async function timeUntil(
  t: SiteTarget,
  path: string,
  want: (status: number) => boolean,
  limitMs: number,
  intervalMs = 25,
): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 <= limitMs) {
    if (want(await siteStatus(t, 'GET', path, 1_000))) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return undefined;
}
