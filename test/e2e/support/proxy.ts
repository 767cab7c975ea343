// HTTPS through the twin's published Caddy port, as a client would see the site: SNI and Host
// are the domain (Caddy's internal CA is not trusted here, so verification is off).
import { Agent, request } from 'node:https';

export type ProxyResponse = { status: number; release: string; body: string };

export function proxyClient(httpsUrl: string, domain: string) {
  const { hostname, port } = new URL(httpsUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false, servername: domain });
  const get = (path: string, timeoutMs = 5_000): Promise<ProxyResponse> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: hostname,
          port: Number(port),
          path,
          method: 'GET',
          agent,
          headers: { host: domain },
          timeout: timeoutMs,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, release: String(res.headers['x-release'] ?? ''), body }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  return { get, close: () => agent.destroy() };
}

export type LoadResult = { total: number; failures: string[]; releases: string[] };

/**
 * A steady, bounded load: `workers` loops of GET `path` until `stop()` resolves, at most
 * `maxRequests` in all and `maxMs` long. Every non-2xx or error is a failure, with its reason.
 */
export async function loadUntil(
  client: ReturnType<typeof proxyClient>,
  path: string,
  stop: Promise<unknown>,
  opts = { workers: 4, maxRequests: 20_000, maxMs: 180_000, pauseMs: 5 },
): Promise<LoadResult> {
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  const t0 = Date.now();
  const result: LoadResult = { total: 0, failures: [], releases: [] };
  const worker = async () => {
    while (!done && result.total < opts.maxRequests && Date.now() - t0 < opts.maxMs) {
      result.total++;
      try {
        const r = await client.get(path);
        if (r.status < 200 || r.status >= 300)
          result.failures.push(`${r.status} from ${r.release || 'proxy'}: ${r.body.slice(0, 80)}`);
        if (result.releases.at(-1) !== r.release) result.releases.push(r.release);
      } catch (e) {
        result.failures.push((e as Error).message);
      }
      await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, worker));
  return result;
}
