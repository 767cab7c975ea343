// The twin's metadata server, run here on loopback and read by the real clients: Google's auth
// library finds it, takes a token and the project from it as it does on a VM; the rules GCP's
// server enforces are checked with plain HTTP.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compute, gcpMetadata } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const tree = {
  project: { 'project-id': 'e2m-test', 'numeric-project-id': '123456789', attributes: {} },
  instance: {
    name: 'e2m-twin',
    zone: 'projects/123456789/zones/europe-west1-b',
    attributes: { 'ssh-keys': 'ops:ssh-ed25519 AAAA ops', 'startup-script': '#!/bin/bash\necho hi\n' },
    'service-accounts': {
      default: {
        email: 'vm@e2m-test.iam.gserviceaccount.com',
        scopes: ['https://www.googleapis.com/auth/cloud-platform'],
      },
      'vm@e2m-test.iam.gserviceaccount.com': {
        email: 'vm@e2m-test.iam.gserviceaccount.com',
        scopes: ['https://www.googleapis.com/auth/cloud-platform'],
      },
    },
  },
};

let dir: string;
let server: ChildProcess;
let base: string;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const get = (path: string, headers: Record<string, string> = { 'Metadata-Flavor': 'Google' }) =>
  fetch(`${base}${path}`, { headers });

let port: number;

/** Starts the server and waits (at most 5 s) for it to answer. */
async function start() {
  server = spawn(
    'python3',
    [
      join(import.meta.dirname, 'server.py'),
      join(dir, 'tree.json'),
      '127.0.0.1',
      String(port),
      join(dir, 'guest-attributes.json'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  for (let i = 0; i < 50; i++) {
    if (
      await fetch(`${base}/`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function restart() {
  const exited = new Promise((r) => server.once('exit', r));
  server.kill();
  await exited;
  await start();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2m-metadata-'));
  writeFileSync(join(dir, 'tree.json'), JSON.stringify(tree));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  await start();
  process.env.GCE_METADATA_HOST = `127.0.0.1:${port}`;
  gcpMetadata.resetIsAvailableCache();
});

afterAll(() => {
  server?.kill();
  delete process.env.GCE_METADATA_HOST;
  gcpMetadata.resetIsAvailableCache();
  rmSync(dir, { recursive: true, force: true });
});

describe('the metadata server, read by google-auth-library', () => {
  it('is detected as GCE, and gives the project and a token for the default service account', async () => {
    expect(await gcpMetadata.isAvailable()).toBe(true);
    expect(await gcpMetadata.project('project-id')).toBe('e2m-test');
    const client = new Compute();
    const { token } = await client.getAccessToken();
    expect(token).toMatch(/^twin\./);
    // The same token until it nears its expiry, as GCP's server hands it out.
    expect((await new Compute().getAccessToken()).token).toBe(token);
    expect(await gcpMetadata.instance('service-accounts/default/email')).toBe(
      'vm@e2m-test.iam.gserviceaccount.com',
    );
  });

  it('serves the attributes Terraform sets: ssh-keys and the startup script', async () => {
    expect(await gcpMetadata.instance('attributes/ssh-keys')).toBe('ops:ssh-ed25519 AAAA ops');
    expect(await gcpMetadata.instance('attributes/startup-script')).toBe('#!/bin/bash\necho hi\n');
    const listing = await (await get('/computeMetadata/v1/instance/attributes/')).text();
    expect(listing).toBe('ssh-keys\nstartup-script\n');
  });
});

describe("the metadata server's rules", () => {
  it('refuses a request without Metadata-Flavor: Google, and one through a proxy (X-Forwarded-For)', async () => {
    const bare = await get('/computeMetadata/v1/project/project-id', {});
    expect(bare.status).toBe(403);
    const proxied = await get('/computeMetadata/v1/project/project-id', {
      'Metadata-Flavor': 'Google',
      'X-Forwarded-For': '10.213.0.3',
    });
    expect(proxied.status).toBe(403);
    const ok = await get('/computeMetadata/v1/project/project-id');
    expect(ok.headers.get('metadata-flavor')).toBe('Google');
    expect(await ok.text()).toBe('e2m-test');
  });

  it('answers 404 for what it does not hold, and no token for an account the VM does not have', async () => {
    expect((await get('/computeMetadata/v1/instance/attributes/nope')).status).toBe(404);
    expect((await get('/computeMetadata/v1/instance/service-accounts/other@x/token')).status).toBe(404);
  });

  it('stores guest attributes, lists them, and wakes a wait_for_change with the new value', async () => {
    const url = '/computeMetadata/v1/instance/guest-attributes/';
    const first = await get(url);
    expect(await first.text()).toBe('');
    expect((await get(`${url}hostkeys/`)).status).toBe(404);
    const waiting = get(`${url}?wait_for_change=true&last_etag=${first.headers.get('etag')}&timeout_sec=10`);
    let answered = false;
    waiting.then(() => {
      answered = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(answered, 'a wait_for_change with the current etag answers only after a change').toBe(false);
    const put = await fetch(`${base}${url}hostkeys/ssh-ed25519`, {
      method: 'PUT',
      headers: { 'Metadata-Flavor': 'Google' },
      body: 'AAAAC3Nza',
    });
    expect(put.status).toBe(200);
    expect(await (await waiting).text()).toBe('hostkeys/\n');
    expect(await (await get(`${url}hostkeys/ssh-ed25519`)).text()).toBe('AAAAC3Nza');
    const other = await fetch(`${base}/computeMetadata/v1/instance/attributes/ssh-keys`, {
      method: 'PUT',
      headers: { 'Metadata-Flavor': 'Google' },
      body: 'attacker:ssh-ed25519 BBBB',
    });
    expect(other.status).toBe(403);
  });

  it("gives a subtree as JSON with ?recursive=true, in GCP's camelCase but for the names of attributes and accounts", async () => {
    const r = await get('/computeMetadata/v1/project/?recursive=true');
    expect(await r.json()).toEqual({ projectId: 'e2m-test', numericProjectId: '123456789', attributes: {} });
    // What the guest agent watches: the whole tree, without the guest attributes it writes itself.
    await fetch(`${base}/computeMetadata/v1/instance/guest-attributes/guest-agent/sshable`, {
      method: 'PUT',
      headers: { 'Metadata-Flavor': 'Google' },
      body: 'true',
    });
    const root = (await (await get('/computeMetadata/v1/?recursive=true&alt=json')).json()) as {
      instance: Record<string, unknown>;
    };
    expect(Object.keys(root.instance).sort()).toEqual(['attributes', 'name', 'serviceAccounts', 'zone']);
    expect(root.instance.attributes).toEqual(tree.instance.attributes);
    expect(Object.keys(root.instance.serviceAccounts as object)).toEqual(
      Object.keys(tree.instance['service-accounts']),
    );
  });

  it('keeps the guest attributes across a restart, as GCP keeps them for the VM', async () => {
    await fetch(`${base}/computeMetadata/v1/instance/guest-attributes/hostkeys/ssh-rsa`, {
      method: 'PUT',
      headers: { 'Metadata-Flavor': 'Google' },
      body: 'AAAAB3Nza',
    });
    await restart();
    expect(await (await get('/computeMetadata/v1/instance/guest-attributes/hostkeys/ssh-rsa')).text()).toBe(
      'AAAAB3Nza',
    );
    // Their names are the VM's: a recursive read keeps them as written.
    const all = await get('/computeMetadata/v1/instance/guest-attributes/hostkeys/?recursive=true');
    expect(await all.json()).toEqual({ 'ssh-ed25519': 'AAAAC3Nza', 'ssh-rsa': 'AAAAB3Nza' });
  });
});
