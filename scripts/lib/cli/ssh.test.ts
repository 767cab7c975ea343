// One answer for "unreachable": a real connection attempt to a loopback port nothing listens on.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reachVm } from './ssh.ts';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('reachVm', () => {
  it('a refused connection is ok: false with where and why, never a throw', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'e2m-ssh-')), 'key');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }));
    const port = await closedPort();
    const knownHostsFile = `${keyFile}.known_hosts`;
    writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOHcSjQMHb\n`);
    const target = { host: '127.0.0.1', port, user: 'ops', keyFile, knownHostsFile };
    const r = await reachVm(target, { readyTimeoutMs: 2_000 });
    expect(r).toMatchObject({ ok: false, where: `ops@127.0.0.1:${port}` });
    expect(r.ok ? '' : r.error).toMatch(/ECONNREFUSED/);
    // Without a pinned key nothing is even tried: every target fails closed.
    const { knownHostsFile: _, ...unpinned } = target;
    const refused = await reachVm(unpinned, { readyTimeoutMs: 2_000 });
    expect(refused.ok ? '' : refused.error).toMatch(
      /no known_hosts file pins the host key of 127\.0\.0\.1:\d+/,
    );
  });
});
