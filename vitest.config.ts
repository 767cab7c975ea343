import { defineConfig } from 'vitest/config';

// One vitest run, several projects, from fastest to slowest:
// unit: pure code, no servers. api: the real app against a real MariaDB and Redis started on
// loopback by the global setup. image: the container image under Docker. e2e: the local twin.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'backend/test/unit/**/*.test.ts',
            'scripts/**/*.test.{ts,mjs}',
            'terraform/test/**/*.test.{ts,mjs}',
            'bench/**/*.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'api',
          include: ['backend/test/api/**/*.test.ts'],
          globalSetup: ['backend/test/support/services.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // The compiled backup job against a real MariaDB (same global setup) and fake-gcs-server.
          name: 'backup',
          include: ['test/backup/**/*.test.ts'],
          globalSetup: ['backend/test/support/services.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'image',
          include: ['backend/test/image/**/*.test.ts'],
          globalSetup: ['backend/test/support/services.ts'],
          testTimeout: 120_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'dev',
          include: ['test/dev/**/*.test.{ts,mjs}'],
          testTimeout: 300_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'supply-chain',
          include: ['test/supply-chain/**/*.test.{ts,mjs}'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // The kernel twin (twin up --kernel): a QEMU guest booted, read back and removed.
          name: 'kernel',
          include: ['test/kernel/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // The README's quick start as written (npm run rehearse) on a twin nothing has touched.
          name: 'quickstart',
          include: ['test/quickstart/**/*.test.ts'],
          testTimeout: 2_400_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          // One entry that imports test/e2e/NN-*.test.{ts,mjs} in name order (see the file).
          include: ['test/e2e/ordered.e2e.ts'],
          // A fresh twin for the run (`twin reset`), removed at the end unless E2M_KEEP_TWIN=1.
          globalSetup: ['test/e2e/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
