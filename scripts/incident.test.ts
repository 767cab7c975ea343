// `incident console` and `reset` through the entry script, as an operator runs them when SSH is
// gone: terraform outputs -> inventory (scripts/gcp-inventory.mjs, with the zone) -> target ->
// the real @google-cloud/compute client -> a local stand-in of the Compute REST API.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { $, YAML } from 'zx';
import { startComputeFake } from '../test/support/compute-fake.ts';
import { inventoryFromOutputs } from './lib/gcp-inventory.ts';

const root = resolve(import.meta.dirname, '..');
const vm = { project: 'e2m-prod-123', zone: 'us-west1-b', instance: 'e2m-prod' };
const dir = mkdtempSync(join(tmpdir(), 'e2m-incident-'));

/** An inventory as `npm run infra:inventory` writes it, with or without instance_zone. */
function inventory(name: string, zone?: string) {
  const out = (value: unknown) => ({ value });
  const outputs = {
    environment: out('prod'),
    domain: out('example.org'),
    instance_name: out(vm.instance),
    external_ip: out('203.0.113.10'),
    admin_user: out('ops'),
    backup_bucket: out('e2m-prod-backups'),
    project_id: out(vm.project),
    ...(zone ? { instance_zone: out(zone) } : {}),
  };
  const file = join(dir, name);
  writeFileSync(
    file,
    YAML.stringify(inventoryFromOutputs(outputs, { privateKeyFile: 'keys/prod', sshRoute: 'direct' })),
  );
  return file;
}

let fake: Awaited<ReturnType<typeof startComputeFake>>;
const withZone = inventory('gcp.yml', vm.zone);
const withoutZone = inventory('old-gcp.yml');

beforeAll(async () => {
  fake = await startComputeFake(vm);
});
afterAll(() => fake.close());

async function incident(file: string, ...args: string[]) {
  const p = await $({
    cwd: root,
    nothrow: true,
    quiet: true,
    env: { ...process.env, E2M_INVENTORY: file },
  })`npx zx scripts/incident.mjs ${args} --target prod --compute-endpoint ${fake.endpoint}`;
  return { code: p.exitCode, out: p.stdout, err: p.stderr };
}
const posts = () => fake.requests.filter((r) => r.startsWith('POST'));

describe('incident console and reset, from the inventory to the Compute API', () => {
  it('console reads the VM named by the inventory, in its zone, and gives the hints', async () => {
    const r = await incident(withZone, 'console', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.trim().split('\n').at(-1) ?? '');
    expect(j).toMatchObject({ ok: true, ...vm, status: 'RUNNING' });
    expect(j.tail).toMatch(/Out of memory: Killed process 911/);
    expect(j.hints[0]).toMatch(/the kernel killed processes for memory/);
    expect(fake.requests).toContain(`GET ${fake.base}/instances/${vm.instance}/serialPort?port=1`);
  }, 60_000);

  it('reset needs --force; --dry-run says what it would do; neither calls the API', async () => {
    const refused = await incident(withZone, 'reset');
    expect(refused.code).toBe(2);
    expect(refused.out).toContain(`reset power-cycles ${vm.project}/${vm.zone}/${vm.instance}`);
    const dry = await incident(withZone, 'reset', '--force', '--dry-run');
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toContain(`would reset ${vm.project}/${vm.zone}/${vm.instance}`);
    expect(posts()).toEqual([]);
  }, 60_000);

  it('reset --force resets the VM and waits for the operation', async () => {
    const r = await incident(withZone, 'reset', '--force', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out.trim().split('\n').at(-1) ?? '')).toMatchObject({
      ok: true,
      operation: 'operation-reset-1',
    });
    expect(posts()).toEqual([
      `POST ${fake.base}/instances/${vm.instance}/reset`,
      `POST ${fake.base}/operations/operation-reset-1/wait`,
      `POST ${fake.base}/operations/operation-reset-1/wait`,
    ]);
  }, 60_000);

  it('an inventory without the zone: a usage error naming the file and the fix; --zone works', async () => {
    const before = fake.requests.length;
    const r = await incident(withoutZone, 'console');
    expect(r.code).toBe(2);
    expect(r.out).toContain(`${withoutZone} has no e2m_zone for ${vm.instance}`);
    expect(r.out).toContain('npm run infra:inventory');
    expect(fake.requests.length).toBe(before);
    const given = await incident(withoutZone, 'console', '--zone', vm.zone, '--lines', '1');
    expect(given.code, given.err).toBe(0);
    expect(given.out).toContain('login:');
    expect(given.out).not.toContain('boot ok');
  }, 60_000);
});
