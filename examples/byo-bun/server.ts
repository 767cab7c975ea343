// The smallest app that meets docs/app-contract.md, and nothing more: two commands (serve,
// migrate), /healthz and /readyz, X-Release from RELEASE, PORT, configuration from the env
// file (DATABASE_URL), and a drain on SIGTERM. Bun's built-in SQL client: no dependencies.
import { SQL } from 'bun';

const release = process.env.RELEASE ?? 'dev';
const command = process.argv[2] ?? 'serve';
if (command !== 'serve' && command !== 'migrate') {
  console.error(`unknown command: ${command} (serve | migrate)`);
  process.exit(2); // the contract: a command the app does not offer is a usage error
}
if (!process.env.DATABASE_URL) {
  console.error('DATABASE_URL is not set (the deploy passes the env file)');
  process.exit(1);
}
// The app's one migration. Idempotent: it runs on every deploy.
const MIGRATION = `CREATE TABLE IF NOT EXISTS byo_visits (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    app_release VARCHAR(64) NOT NULL,
    at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`;

if (command === 'migrate' && process.argv.includes('--dry-run')) {
  // The contract's optional part: what `migrate` would run, as one JSON line, changing nothing;
  // the deploy refuses a destructive statement (docs/app-contract.md).
  console.log(JSON.stringify({ pending: ['byo_visits'], statements: { byo_visits: [MIGRATION] } }));
  process.exit(0);
}
const db = new SQL(process.env.DATABASE_URL);

if (command === 'migrate') {
  await db.unsafe(MIGRATION);
  await db.close();
  console.log('migrated');
  process.exit(0);
}

let draining = false;
const headers = { 'x-release': release };
const reply = (body: unknown, status = 200) => Response.json(body, { status, headers });

const server = Bun.serve({
  hostname: '0.0.0.0',
  port: Number(process.env.PORT ?? 3000),
  async fetch(req) {
    const { pathname } = new URL(req.url);
    if (pathname === '/healthz') return reply({ ok: true });
    if (pathname === '/readyz') {
      if (draining) return reply({ ready: false, why: 'draining' }, 503);
      try {
        await db`SELECT 1`;
        return reply({ ready: true });
      } catch (e) {
        return reply({ ready: false, why: `database: ${(e as Error).message}` }, 503);
      }
    }
    if (pathname === '/visits' && req.method === 'POST') {
      await db`INSERT INTO byo_visits (app_release) VALUES (${release})`;
      return reply({ recorded: true }, 201);
    }
    if (pathname === '/visits') {
      const [row] = await db`SELECT COUNT(*) AS n FROM byo_visits`;
      return reply({ release, visits: Number(row.n) });
    }
    return reply({ error: 'not_found' }, 404);
  },
});

// Drain: /readyz turns 503 at once, requests in flight finish, then exit 0.
process.on('SIGTERM', async () => {
  draining = true;
  await server.stop();
  await db.close();
  process.exit(0);
});
