import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

// .env.example is the configuration reference: it must list every key and be valid as written.
describe('.env.example', () => {
  const text = readFileSync(join(import.meta.dirname, '../../../.env.example'), 'utf8');
  const env = Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

  it('documents exactly the keys the config reads', () => {
    const config = loadConfig(env);
    expect(Object.keys(env).sort()).toEqual(Object.keys(config).sort());
  });
});
