// `npm run bench -- rollback`: warm rollbacks on the converged twin, from the command, as a user
// runs them (`zx scripts/deploy.mjs rollback RELEASE --json`), straight to the twin's sshd and
// through a relay on loopback that holds every chunk --rtt/2 ms each way: the twin is a hop away
// on loopback, a VM is a WAN round trip away, and each round trip a command makes costs that.
// Prints per run the command's wall clock, its plan (`ms`), and the verify step; then the medians.
// Needs: the twin up and converged, and a deploy after the first (a warm colour): `npm run
// rehearse` leaves one. Options: --runs N (default 6, alternating between the two releases),
// --rtt MS (default 30).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argv, echo } from 'zx';
import { loadTarget } from '../scripts/lib/target.ts';
import { deployJson } from './lib/deploy-cli.ts';

const root = join(import.meta.dirname, '..');
const runs = Number(argv.runs ?? 6);
const rtt = Number(argv.rtt ?? 30);
if (!(runs >= 1 && runs <= 50) || !(rtt >= 0 && rtt <= 1000))
  throw new Error('bench rollback: --runs 1..50 and --rtt 0..1000 (ms)');
const target = loadTarget('twin', root);
const inventory = target.inventoryFile;
const knownHosts: string =
  target.knownHostsFile ??
  (() => {
    throw new Error(`bench rollback: ${inventory} names no e2m_known_hosts_file`);
  })();

/** A relay to the twin's sshd that delays each chunk, in order, by `oneWay` ms. */
function relay(oneWay: number): Promise<{ port: number; close(): void }> {
  const pipe = (from: net.Socket, to: net.Socket) => {
    let chain = Promise.resolve();
    from.on('data', (d) => {
      const at = Date.now() + oneWay;
      chain = chain
        .then(() => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now()))))
        .then(() => void to.write(d));
    });
    from.on('end', () => void chain.then(() => to.end()));
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((c) => {
    c.setNoDelay(true);
    const s = net.connect(target.port, target.host, () => s.setNoDelay(true));
    pipe(c, s);
    pipe(s, c);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ port, close: () => server.close() });
    }),
  );
}

/** The twin's inventory, pointed at the relay (its host key pinned for that port too). */
function relayInventory(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'e2m-bench-rollback-'));
  const known = readFileSync(knownHosts, 'utf8').replaceAll(
    `[127.0.0.1]:${target.port}`,
    `[127.0.0.1]:${port}`,
  );
  writeFileSync(join(dir, 'known_hosts'), known);
  const text = readFileSync(inventory, 'utf8')
    .replace(`ansible_port: ${target.port}`, `ansible_port: ${port}`)
    .replaceAll(knownHosts, join(dir, 'known_hosts'));
  writeFileSync(join(dir, 'twin.yml'), text);
  return join(dir, 'twin.yml');
}

const deploy = (inv: string, ...args: string[]) => deployJson(args, { ...process.env, E2M_INVENTORY: inv });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(label: string, inv: string) {
  const rows: { wall: number; plan: number; verify: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const warm = (await deploy(inv, 'status')).warm;
    if (!warm?.running)
      throw new Error(
        'bench rollback: no warm colour on the twin; deploy once more first (npm run rehearse)',
      );
    const t0 = performance.now();
    const r = await deploy(inv, 'rollback', warm.release);
    const wall = performance.now() - t0;
    rows.push({ wall, plan: r.ms, verify: r.stepTimes.verify });
    echo(
      `  ${label}: rollback to ${warm.release}: command ${(wall / 1000).toFixed(2)} s, plan ${(r.ms / 1000).toFixed(2)} s, verify ${(r.stepTimes.verify / 1000).toFixed(2)} s`,
    );
  }
  return { label, wall: median(rows.map((r) => r.wall)), plan: median(rows.map((r) => r.plan)) };
}

const direct = await measure('loopback', inventory);
const r = await relay(rtt / 2);
let relayed: Awaited<ReturnType<typeof measure>>;
try {
  relayed = await measure(`+${rtt} ms round trip`, relayInventory(r.port));
} finally {
  r.close();
}
echo(`\nwarm rollback on the twin, ${runs} runs each (medians):`);
for (const m of [direct, relayed])
  echo(
    `  ${m.label.padEnd(20)} command ${(m.wall / 1000).toFixed(2)} s, plan ${(m.plan / 1000).toFixed(2)} s`,
  );
