// The e2e project's single entry: runs test/e2e/NN-name.test.{ts,mjs} in name order, one
// describe block per file (so each file's beforeAll/afterAll stay around its own tests). Order
// matters: 10-twin checks the fresh twin, the converge tests (20-...) change it, and
// 90-memory runs last. Vitest sorts files by its own cache, not by name, and a custom sequencer
// can only be set for the whole workspace, hence this entry. Add a test file by naming it NN-*.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe } from 'vitest';

const files = readdirSync(import.meta.dirname)
  .filter((f) => /^\d+-[\w.-]+\.test\.(ts|mjs)$/.test(f))
  .sort();

for (const file of files) {
  describe(file, async () => {
    await import(/* @vite-ignore */ pathToFileURL(join(import.meta.dirname, file)).href);
  });
}
