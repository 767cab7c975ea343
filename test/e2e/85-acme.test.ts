// The Caddy role's acme mode, the one prod uses, converged once against Pebble, Let's Encrypt's
// test ACME server, run beside the twin on its Docker network. Nothing is skipped on Pebble's
// side: it resolves the domain to the twin, fetches the HTTP-01 token from Caddy on port 80 (or
// makes the TLS-ALPN-01 handshake on 443), rejects some nonces and sleeps before it validates,
// as its defaults do. Then the twin goes back to the internal CA, as every other file expects.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshRunner } from '../../scripts/lib/runner.ts';
import { changedTasks, playbook } from './support/playbook.ts';
import { connect, sudo, twinConfig, twinTarget } from './support/twin.ts';

const DOMAIN = 'app.e2m-twin.test';
const EMAIL = 'ops@e2m-twin.test';
const cfg = twinConfig();
const target = twinTarget();
const pebbleName = `${cfg.container}-pebble`;
const pebbleImage = 'e2m-pebble:e2e';
const gobin = process.env.GOBIN || join(process.env.HOME ?? '/root', '.cache', 'e2-micro', 'go', 'bin');
const minica = readFileSync(join(gobin, 'pebble-certs', 'pebble.minica.pem'), 'utf8');
const docker = (...args: string[]) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

let ssh: SshRunner;
let converge: Awaited<ReturnType<typeof playbook>>;

/** Pebble and its listener's certificate, as a one-file image like the GCS emulator's. */
function buildPebbleImage(): void {
  const dir = mkdtempSync(join(tmpdir(), 'e2m-pebble-'));
  try {
    const rootfs = join(dir, 'root');
    execFileSync('install', ['-D', '-m', '0755', join(gobin, 'pebble'), join(rootfs, 'pebble')]);
    for (const f of ['cert.pem', 'key.pem'])
      execFileSync('install', ['-D', '-m', '0644', join(gobin, 'pebble-certs', f), join(rootfs, 'certs', f)]);
    // Files before DNS: the domain is an --add-host line, not a name Docker's DNS knows.
    mkdirSync(join(rootfs, 'etc'));
    writeFileSync(join(rootfs, 'etc', 'nsswitch.conf'), 'hosts: files dns\n');
    const config = {
      pebble: {
        listenAddress: '0.0.0.0:14000',
        managementListenAddress: '0.0.0.0:15000',
        certificate: '/certs/cert.pem',
        privateKey: '/certs/key.pem',
        // Where a real CA looks: the site's own ports 80 and 443.
        httpPort: 80,
        tlsPort: 443,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    };
    writeFileSync(join(rootfs, 'config.json'), JSON.stringify(config));
    execFileSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', join(dir, 'pebble.tar'), '.']);
    docker(
      'import',
      '--change',
      'ENTRYPOINT ["/pebble", "-config", "/config.json"]',
      join(dir, 'pebble.tar'),
      pebbleImage,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The twin's address on its network: where Pebble's validation must land. */
function twinAddress(): string {
  const networks = JSON.parse(
    docker('inspect', '--format', '{{json .NetworkSettings.Networks}}', cfg.container),
  );
  const ip = networks[cfg.network]?.IPAddress;
  if (!ip) throw new Error(`${cfg.container} has no address on ${cfg.network}`);
  return ip;
}

/** Polls `probe` every second until it returns a value, for at most `seconds`. */
async function within<T>(seconds: number, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  let last = '';
  for (let i = 0; i < seconds; i++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: not within ${seconds} s${last ? ` (last: ${last})` : ''}`);
}

/** The certificate the twin's published HTTPS port presents for the domain, verified against `ca`. */
function servedCertificate(ca: string) {
  const { hostname, port } = new URL(target.httpsUrl);
  return new Promise<{ subjectaltname?: string; issuer: Record<string, string> }>((resolve, reject) => {
    const socket = tlsConnect(
      { host: hostname, port: Number(port), servername: DOMAIN, ca, timeout: 5000 },
      () => {
        const cert = socket.getPeerCertificate();
        socket.end();
        resolve({
          subjectaltname: cert.subjectaltname,
          issuer: cert.issuer as unknown as Record<string, string>,
        });
      },
    );
    socket.on('error', reject);
    socket.on('timeout', () => socket.destroy(new Error('TLS handshake timed out')));
  });
}

beforeAll(async () => {
  ssh = await connect();
  docker('rm', '-f', pebbleName);
  buildPebbleImage();
  docker(
    'run',
    '--detach',
    '--name',
    pebbleName,
    '--network',
    cfg.network,
    // The name its own listener's certificate carries, so Caddy verifies it.
    '--network-alias',
    'pebble',
    '--add-host',
    `${DOMAIN}:${twinAddress()}`,
    pebbleImage,
  );
  await within(30, 'Pebble answers on https://pebble:14000/dir from the twin', async () => {
    const r = await ssh.run(['curl', '-sf', '--cacert', '/dev/stdin', 'https://pebble:14000/dir'], {
      input: minica,
      check: false,
    });
    return r.code === 0 ? true : undefined;
  });
  converge = await playbook(
    '-e',
    JSON.stringify({
      caddy_domain: DOMAIN,
      caddy_tls_mode: 'acme',
      caddy_acme_email: EMAIL,
      caddy_acme_ca: 'https://pebble:14000/dir',
      caddy_acme_ca_root: minica,
    }),
  );
}, 600_000);

afterAll(async () => {
  // Back to the internal CA and localhost, as the inventory says; then Pebble goes.
  const back = await playbook();
  docker('rm', '-f', pebbleName);
  docker('image', 'rm', '-f', pebbleImage);
  await ssh?.close();
  expect(back.code, back.out.slice(-3000)).toBe(0);
}, 600_000);

describe("caddy: acme mode against Let's Encrypt's test server (Pebble)", () => {
  it('converges', () => {
    expect(converge.code, converge.out.slice(-3000)).toBe(0);
    expect(changedTasks(converge.out).join('\n')).toMatch(/Write the Caddyfile/);
  });

  it('gets a certificate for the domain from the ACME server and serves it to a client that verifies it', async () => {
    // Pebble makes a new root at each start; only its management port gives it out.
    const root = await ssh.run(['curl', '-sf', '--cacert', '/dev/stdin', 'https://pebble:15000/roots/0'], {
      input: minica,
    });
    const cert = await within(120, `a certificate for ${DOMAIN} signed by Pebble`, () =>
      servedCertificate(root.stdout),
    );
    expect(cert.subjectaltname).toBe(`DNS:${DOMAIN}`);
    expect(cert.issuer.CN).toMatch(/^Pebble Intermediate CA/);
  });

  it('registered the ACME account with the e-mail, and keeps its key and the certificate in Caddy storage', async () => {
    const store = '/var/lib/caddy/.local/share/caddy';
    const users = await sudo(ssh, ['ls', `${store}/acme/pebble-14000-dir/users`]);
    expect(users.stdout.split('\n')).toContain(EMAIL);
    const certs = await sudo(ssh, ['ls', `${store}/certificates/pebble-14000-dir/${DOMAIN}`]);
    expect(certs.stdout.split('\n').sort()).toEqual([`${DOMAIN}.crt`, `${DOMAIN}.json`, `${DOMAIN}.key`]);
    // The CA behind Pebble's own HTTPS is the one the role wrote, byte for byte.
    const written = await sudo(ssh, ['cat', '/etc/caddy/acme-ca-root.pem']);
    const digest = (s: string) => createHash('sha256').update(s.trim()).digest('hex');
    expect(digest(written.stdout)).toBe(digest(minica));
  });

  it('redirects plain HTTP for the domain to HTTPS', async () => {
    const { hostname, port } = new URL(target.httpUrl);
    const res = await new Promise<{ status: number; location?: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: hostname, port: Number(port), path: '/healthz', headers: { host: DOMAIN }, timeout: 5000 },
        (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, location: r.headers.location });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(308);
    expect(res.location).toBe(`https://${DOMAIN}/healthz`);
  });
});
