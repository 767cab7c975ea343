// HTTPS through the twin's published Caddy port, as a client would see the site: SNI and Host
// are the domain (Caddy's internal CA is not trusted here, so verification is off).
import { Agent, request } from 'node:https';

export type ProxyResponse = { status: number; release: string; body: string; retried: boolean };

/**
 * A keep-alive connection the server closed just as a request went out on it: nothing of the
 * request was processed. Browsers and Node's own docs (`request.reusedSocket`) retry an
 * idempotent request once in exactly this case (RFC 9112, 9.3.1); a proxy reload closes idle
 * client connections, so a deploy hits it.
 */
const staleSocket = (e: NodeJS.ErrnoException, reused: boolean) =>
  reused && (e.code === 'ECONNRESET' || e.message === 'socket hang up');

export function proxyClient(httpsUrl: string, domain: string) {
  const { hostname, port } = new URL(httpsUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false, servername: domain });
  // The retry goes on a new connection, as browsers do: another idle socket of the pool may be
  // closing in the same proxy reload.
  const fresh = new Agent({ keepAlive: false, rejectUnauthorized: false, servername: domain });
  const once = (path: string, timeoutMs: number, via = agent): Promise<Omit<ProxyResponse, 'retried'>> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: hostname,
          port: Number(port),
          path,
          method: 'GET',
          agent: via,
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
      req.on('error', (e: NodeJS.ErrnoException) => reject(Object.assign(e, { reused: req.reusedSocket })));
      req.end();
    });
  const get = async (path: string, timeoutMs = 5_000): Promise<ProxyResponse> => {
    try {
      return { ...(await once(path, timeoutMs)), retried: false };
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { reused: boolean };
      if (!staleSocket(err, err.reused)) throw e;
      return { ...(await once(path, timeoutMs, fresh)), retried: true };
    }
  };
  return {
    get,
    close: () => {
      agent.destroy();
      fresh.destroy();
    },
  };
}

export type LoadResult = {
  total: number;
  failures: string[];
  releases: string[];
  retriedOnStaleSocket: number;
};

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
  const result: LoadResult = { total: 0, failures: [], releases: [], retriedOnStaleSocket: 0 };
  const worker = async () => {
    while (!done && result.total < opts.maxRequests && Date.now() - t0 < opts.maxMs) {
      result.total++;
      try {
        const r = await client.get(path);
        if (r.retried) result.retriedOnStaleSocket++;
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
