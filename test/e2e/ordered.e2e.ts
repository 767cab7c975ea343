// The e2e project's single entry: runs test/e2e/NN-name.test.{ts,mjs} in name order, one
// describe block per file (so each file's beforeAll/afterAll stay around its own tests). Order
// matters: 10-twin checks the fresh twin, the converge tests (20-...) change it, and
// 90-memory runs last. Vitest sorts files by its own cache, not by name, and a custom sequencer
// can only be set for the whole workspace, hence this entry. Add a test file by naming it NN-*.
// While working on one file: E2M_E2E_ONLY=50,60 runs only the files with those prefixes, and
// E2M_TWIN_REUSE=1 (with E2M_KEEP_TWIN=1 on the run before) keeps a converged twin instead of
// resetting it. CI sets neither.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe } from 'vitest';

const only = (process.env.E2M_E2E_ONLY ?? '').split(',').filter(Boolean);
const files = readdirSync(import.meta.dirname)
  .filter((f) => /^\d+-[\w.-]+\.test\.(ts|mjs)$/.test(f))
  .filter((f) => only.length === 0 || only.some((p) => f.startsWith(p)))
  .sort();

for (const file of files) {
  describe(file, async () => {
    await import(/* @vite-ignore */ pathToFileURL(join(import.meta.dirname, file)).href);
  });
}
