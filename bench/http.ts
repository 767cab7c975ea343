// `npm run bench -- http`: the backend image under the limits of its slot on the VM (256 MB,
// 0.5 CPU), against a real MariaDB and Redis on loopback. Prints requests/s and p50/p99 latency
// of a cached GET and of a POST at fixed concurrency, and the container's peak RSS; then the same
// app under Node 22 (it runs unmodified with --experimental-transform-types) for comparison.
// Options: --duration S (default 10), --connections N (default 16), --skip-node.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { $, argv, echo, tmpdir } from 'zx';
import { freePort, startServices } from '../backend/test/support/services.ts';
import { parseWrk } from './lib/wrk.ts';

const root = join(import.meta.dirname, '..');
const duration = Number(argv.duration ?? 10);
const connections = Number(argv.connections ?? 16);
const LIMITS = ['--memory', '256m', '--memory-swap', '256m', '--cpus', '0.5'];
const t0 = Date.now();
const step = (msg: string) => echo(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

async function waitReady(url: string) {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${url}/readyz`).catch(() => null);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url}/readyz never answered 200`);
}

async function peakRssMb(container: string) {
  const pid = (await $`docker inspect --format {{.State.Pid}} ${container}`).stdout.trim();
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

async function measure(label: string, container: string, url: string) {
  await waitReady(url);
  const id = (
    await (
      await fetch(`${url}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"title":"cached"}',
      })
    ).json()
  ).id;
  await fetch(`${url}/notes/${id}`); // warm the cache
  const idle = await peakRssMb(container);
  step(`${label}: GET /notes/${id} (cached), ${connections} connections, ${duration}s`);
  const get = parseWrk(
    (await $`wrk -t2 -c${connections} -d${duration}s --latency ${`${url}/notes/${id}`}`).stdout,
  );
  step(`${label}: POST /notes, ${connections} connections, ${duration}s`);
  const post = parseWrk(
    (
      await $`wrk -t2 -c${connections} -d${duration}s --latency -s ${join(import.meta.dirname, 'post.lua')} ${`${url}/notes`}`
    ).stdout,
  );
  const mem = await peakRssMb(container);
  return { label, get, post, idleRssMb: idle.rssMb, peakRssMb: mem.peakMb };
}

const services = await startServices();
const containers = [];
try {
  step('services up; building the image');
  const built = JSON.parse(
    (
      await $`npx zx ${join(root, 'scripts/image.mjs')} build --tag e2m/backend:bench --release bench --json`
    ).stdout
      .trim()
      .split('\n')
      .pop() ?? '',
  );
  const dbUrl = `${services.mysqlAdminUrl}/bench`;
  await $`docker run --rm --network host -e DATABASE_URL=${`${services.mysqlAdminUrl}/mysql`} -e REDIS_URL=${services.redisUrl} --entrypoint /app/server e2m/backend:bench migrate --dry-run`;
  const mysql = (await import('../backend/node_modules/mysql2/promise.js')).default;
  const admin = await mysql.createConnection(services.mysqlAdminUrl);
  await admin.query('CREATE DATABASE IF NOT EXISTS bench');
  await admin.end();
  const env = (port: number) => [
    '-e',
    `PORT=${port}`,
    '-e',
    'HOST=127.0.0.1',
    '-e',
    `DATABASE_URL=${dbUrl}`,
    '-e',
    `REDIS_URL=${services.redisUrl}`,
    '-e',
    'RATE_LIMIT_MAX=1000000000',
  ];
  await $`docker run --rm --network host ${env(1)} e2m/backend:bench migrate`;

  const results = [];
  const bunPort = await freePort();
  containers.push('e2m-bench-bun');
  await $`docker run -d --name e2m-bench-bun --read-only --cap-drop ALL ${LIMITS} --network host ${env(bunPort)} e2m/backend:bench`;
  results.push(
    await measure(
      `bun (image ${(built.sizeBytes / 1e6).toFixed(1)} MB)`,
      'e2m-bench-bun',
      `http://127.0.0.1:${bunPort}`,
    ),
  );
  await $`docker rm -f e2m-bench-bun`;

  if (!argv['skip-node']) {
    step('building the Node 22 comparison image (glibc, libstdc++, node)');
    const tar = join(tmpdir(), 'node-rootfs.tar');
    const node = (await $`readlink -f ${(await $`which node`).stdout.trim()}`).stdout.trim();
    await $({
      env: { ...process.env, EXTRA_PACKAGES: 'libstdc++6 libgcc-s1' },
    })`bash ${join(root, 'backend/image/rootfs.sh')} ${tar} ${node}`;
    await $`docker import ${tar} e2m/node-bench:latest`;
    await rm(tar, { force: true });
    const nodePort = await freePort();
    containers.push('e2m-bench-node');
    await $`docker run -d --name e2m-bench-node --read-only --cap-drop ALL ${LIMITS} --network host ${env(nodePort)} -v ${join(root, 'backend')}:/app:ro -w /app --user 10001:10001 e2m/node-bench:latest /usr/local/bin/node --experimental-transform-types --no-warnings src/server.ts`;
    results.push(await measure('node 22 (same source)', 'e2m-bench-node', `http://127.0.0.1:${nodePort}`));
  }

  echo(
    `\nhttp benchmark: ${connections} connections, ${duration}s each, container limited to 256 MB and 0.5 CPU`,
  );
  echo(
    'runtime                              | GET cached rps | p50 ms | p99 ms | POST rps | p50 ms | p99 ms | non-2xx | idle RSS MB | peak RSS MB',
  );
  for (const r of results) {
    const f = (n: number, d = 1) => n.toFixed(d).padStart(6);
    echo(
      `${r.label.padEnd(36)} | ${f(r.get.rps, 0).padStart(14)} | ${f(r.get.p50Ms, 2)} | ${f(r.get.p99Ms, 2)} | ${f(r.post.rps, 0).padStart(8)} | ${f(r.post.p50Ms, 2)} | ${f(r.post.p99Ms, 2)} | ${String(r.get.non2xx + r.post.non2xx + r.get.socketErrors + r.post.socketErrors).padStart(7)} | ${f(r.idleRssMb).padStart(11)} | ${f(r.peakRssMb).padStart(11)}`,
    );
  }
  if (argv.json) echo(JSON.stringify(results));
} finally {
  for (const c of containers) await $`docker rm -f ${c}`.nothrow();
  await services.stop();
}
