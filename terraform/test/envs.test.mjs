import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Environment parity: dev, staging and prod share one configuration and differ only in values.
const ENVS = ['dev', 'staging', 'prod'];
const assignments = (env) => {
  const text = readFileSync(new URL(`../envs/${env}.tfvars`, import.meta.url), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^\s*[a-z_]+\s*=/.test(l))
      .map((l) => {
        const [key, ...rest] = l.split('=');
        return [key.trim(), rest.join('=').trim()];
      }),
  );
};
const declared = new Set(
  [
    ...readFileSync(new URL('../variables.tf', import.meta.url), 'utf8').matchAll(/^variable "([a-z_]+)"/gm),
  ].map((m) => m[1]),
);

describe('envs/*.tfvars', () => {
  it('set the same variables in every environment', () => {
    const keys = ENVS.map((e) => Object.keys(assignments(e)).sort());
    expect(keys[1]).toEqual(keys[0]);
    expect(keys[2]).toEqual(keys[0]);
  });

  it('set only declared variables, and name their own environment', () => {
    for (const env of ENVS) {
      const vars = assignments(env);
      for (const key of Object.keys(vars)) expect(declared.has(key), `${env}: ${key}`).toBe(true);
      expect(vars.environment).toBe(`"${env}"`);
    }
  });

  it('never lift the free-tier guardrails', () => {
    for (const env of ENVS) {
      const vars = assignments(env);
      expect(vars.allow_paid_resources ?? 'false', env).toBe('false');
      expect(['"us-west1"', '"us-central1"', '"us-east1"'], env).toContain(vars.region);
    }
  });
});
