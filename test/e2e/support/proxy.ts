// HTTPS through the twin's published Caddy port, as a client would see the site: SNI and Host
// are the domain (Caddy's internal CA is not trusted here, so verification is off).
import { Agent, request } from 'node:https';

export type ProxyResponse = { status: number; release: string; body: string };

/**
 * A keep-alive client that never retries: a request that meets a closing socket fails, as it
 * does for `fetch` in Node, a mobile app or a server-to-server caller. Zero failures under this
 * client means the server side lost nothing, not that the client papered over it.
 */
export function proxyClient(httpsUrl: string, domain: string) {
  const { hostname, port } = new URL(httpsUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false, servername: domain });
  const send = (method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 5_000) =>
    new Promise<ProxyResponse>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: hostname,
          port: Number(port),
          path,
          method,
          agent,
          headers: {
            host: domain,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
          timeout: timeoutMs,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              release: String(res.headers['x-release'] ?? ''),
              body: text,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `${method} ${path}: ${e.code ?? e.message}${req.reusedSocket ? ' (on a reused keep-alive socket)' : ''}`,
          ),
        ),
      );
      req.end(payload);
    });
  return {
    get: (path: string, timeoutMs?: number) => send('GET', path, undefined, timeoutMs),
    post: (path: string, body: unknown, timeoutMs?: number) => send('POST', path, body, timeoutMs),
    close: () => agent.destroy(),
  };
}

export type LoadResult = {
  /** Requests sent, and how many of them were POSTs. */
  total: number;
  posts: number;
  /** No answer at all: reset, closed, refused, timed out. */
  transportErrors: string[];
  /** 5xx answers: the proxy or the app failed the request. */
  serverErrors: string[];
  /** Any other answer outside 2xx but 429: the load itself is wrong. */
  unexpected: string[];
  /** 429s are the rate limit doing its job, counted apart (the POSTs stay below it). */
  rateLimited: number;
  /** Everything above but the 429s: what the deploy must keep at 0. */
  failures: string[];
  /** The releases that answered, in order, each change once. */
  releases: string[];
  /** With `record`: each request's start (epoch ms), its latency and whether it failed. */
  samples: LoadSample[];
};

/** A request: when it started (epoch ms), its latency, whether it failed, the release that answered. */
export type LoadSample = { at: number; ms: number; failed: boolean; release?: string };

export type LoadOptions = {
  /** Workers looping GET on `path`. */
  workers: number;
  /** Workers looping POST /notes, each once per `postEveryMs` (the app allows 120 per minute). */
  postWorkers: number;
  postEveryMs: number;
  maxRequests: number;
  maxMs: number;
  pauseMs: number;
  /** Keep every request's latency (the bench's chart); bounded by `maxRequests`. */
  record: boolean;
};

export const DEFAULT_LOAD: LoadOptions = {
  workers: 4,
  postWorkers: 1,
  postEveryMs: 750,
  maxRequests: 20_000,
  maxMs: 180_000,
  pauseMs: 5,
  record: false,
};

/**
 * A steady, bounded load: GET workers on `path` and POST workers creating notes, until `stop`
 * resolves, at most `maxRequests` in all and `maxMs` long. Nothing is retried.
 */
export async function loadUntil(
  client: ReturnType<typeof proxyClient>,
  path: string,
  stop: Promise<unknown>,
  options: Partial<LoadOptions> = {},
): Promise<LoadResult> {
  const opts = { ...DEFAULT_LOAD, ...options };
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  const t0 = Date.now();
  const r: LoadResult = {
    total: 0,
    posts: 0,
    transportErrors: [],
    serverErrors: [],
    unexpected: [],
    rateLimited: 0,
    failures: [],
    releases: [],
    samples: [],
  };
  const going = () => !done && r.total < opts.maxRequests && Date.now() - t0 < opts.maxMs;
  /** Whether the answer is a failure (a 429 is the rate limit doing its job, not one). */
  const judge = (what: string, res: ProxyResponse) => {
    if (res.release && r.releases.at(-1) !== res.release) r.releases.push(res.release);
    if (res.status === 429) r.rateLimited++;
    else if (res.status >= 500)
      r.serverErrors.push(`${what}: ${res.status} from ${res.release || 'proxy'}: ${res.body.slice(0, 80)}`);
    else if (res.status < 200 || res.status >= 300)
      r.unexpected.push(`${what}: ${res.status}: ${res.body.slice(0, 80)}`);
    else return false;
    return res.status !== 429;
  };
  const loop = async (what: string, send: () => Promise<ProxyResponse>, pauseMs: number) => {
    while (going()) {
      const started = Date.now();
      // Sub-millisecond, for ordering requests around a switch (the bench's runsByStart).
      const startedAt = performance.timeOrigin + performance.now();
      r.total++;
      let failed = true;
      let release: string | undefined;
      try {
        const res = await send();
        release = res.release || undefined;
        failed = judge(what, res);
      } catch (e) {
        r.transportErrors.push((e as Error).message);
      }
      if (opts.record) r.samples.push({ at: startedAt, ms: Date.now() - started, failed, release });
      await new Promise((res) => setTimeout(res, Math.max(0, pauseMs - (Date.now() - started))));
    }
  };
  let n = 0;
  const post = () => {
    r.posts++;
    n++;
    return client.post('/notes', { title: `load ${t0}-${n}`, body: 'written during a deploy' });
  };
  await Promise.all([
    ...Array.from({ length: opts.workers }, () => loop(`GET ${path}`, () => client.get(path), opts.pauseMs)),
    ...Array.from({ length: opts.postWorkers }, () => loop('POST /notes', post, opts.postEveryMs)),
  ]);
  r.failures = [...r.transportErrors, ...r.serverErrors, ...r.unexpected];
  return r;
}

/** One line for a log: totals and each kind of failure, with the first few reasons. */
export function describeLoad(r: LoadResult): string {
  const some = (xs: string[]) => (xs.length ? ` (${xs.slice(0, 3).join('; ')})` : '');
  return (
    `${r.total} requests (${r.posts} POST), no retry: failed ${r.failures.length} = ` +
    `transport errors ${r.transportErrors.length}${some(r.transportErrors)}, ` +
    `5xx ${r.serverErrors.length}${some(r.serverErrors)}, other non-2xx ${r.unexpected.length}${some(r.unexpected)}; ` +
    `429 (rate limit, not a failure) ${r.rateLimited}; releases seen ${r.releases.join(' -> ')}`
  );
}
