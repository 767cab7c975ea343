import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { twinInput } from '../../../../test/support/twin-fixtures.ts';
import { toShell } from '../../runner.ts';
import { resolveConfig } from '../plan.ts';
import { AGENT_DROP_IN, metadataSteps, metadataTree } from './plan.ts';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const cfg = resolveConfig(twinInput);
const tree = metadataTree(cfg, 'ssh-ed25519 AAAA ops@e2m-twin\n', '#!/bin/bash\ntrue\n');

describe('metadataTree', () => {
  it("holds the keys of compute.tf's metadata block, and the startup script as metadata_startup_script gives it", () => {
    const tf = readFileSync(join(root, 'terraform', 'compute.tf'), 'utf8');
    const block = /\n {2}metadata = \{\n([\s\S]*?)\n {2}\}/.exec(tf)?.[1] ?? '';
    const keys = [...block.matchAll(/^\s+([\w-]+)\s+=/gm)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(3);
    expect(Object.keys(tree.instance.attributes).sort()).toEqual([...keys, 'startup-script'].sort());
    expect(tree.instance.attributes['ssh-keys']).toBe('ops:ssh-ed25519 AAAA ops@e2m-twin');
    expect(tree.instance.attributes['startup-script']).toBe('#!/bin/bash\ntrue\n');
  });

  it("names the VM's service account as iam.tf does (NAME_PREFIX-ENV-vm), with the cloud-platform scope", () => {
    const email = 'e2m-twin-vm@e2m-twin-local.iam.gserviceaccount.com';
    expect(tree.instance['service-accounts'].default).toEqual({
      email,
      scopes: ['https://www.googleapis.com/auth/cloud-platform'],
      aliases: ['default'],
    });
    expect(Object.keys(tree.instance['service-accounts'])).toEqual(['default', email]);
    expect(tree.project['project-id']).toBe('e2m-twin-local');
  });
});

describe('metadataSteps', () => {
  const steps = metadataSteps(cfg, 'print()\n', tree);
  const lines = steps.map((s) => ('argv' in s ? toShell(s.argv) : ''));
  it('installs the server and its unit, starts it, then the guest agent after it, and waits for what the agent does', () => {
    expect(steps.map((s) => s.title)).toEqual([
      'install the metadata server stand-in',
      'install its network namespace script',
      "write the metadata (compute.tf's values)",
      'install twin-metadata.service',
      'start twin-metadata.service (169.254.169.254, metadata.google.internal)',
      'wait for the metadata server to answer',
      'order google-guest-agent.service after twin-metadata.service',
      'order google-startup-scripts.service after twin-metadata.service',
      "start the guest agent (google-guest-agent, Debian's package)",
      'wait for the agent to create ops with the keys of the metadata ssh-keys',
      'wait for the agent to publish the host keys (guest attributes hostkeys/)',
      'run the startup script from the metadata (terraform/startup.sh.tftpl, rendered)',
    ]);
    expect(steps[0]).toMatchObject({ input: 'print()\n' });
    expect(JSON.parse((steps[2] as { input: string }).input)).toEqual(tree);
    expect(steps[5]).toMatchObject({ kind: 'wait', expect: 'e2m-twin-local' });
    expect(steps[6]).toMatchObject({ input: AGENT_DROP_IN });
    expect(AGENT_DROP_IN).toContain('After=twin-metadata.service');
    expect(lines[8]).toContain(
      'systemctl enable --quiet google-guest-agent.service google-startup-scripts.service',
    );
    expect(lines[9]).toContain(
      'http://metadata.google.internal/computeMetadata/v1/instance/attributes/ssh-keys',
    );
    expect(lines[10]).toContain('guest-attributes/hostkeys/ssh-ed25519');
    // The runner exits 0 whatever the script does: its log of this run decides.
    expect(lines[11]).toContain('startup-script exit status 0');
  });
});
