// Shared test data: the twin's config input as `twin up` would resolve it in a checkout at /repo,
// for the pure planners' tests (twin/plan.ts, twin/metadata/plan.ts).
export const twinInput = {
  root: '/repo',
  env: {},
  flags: {},
  provisionScript: 'echo provision',
  gcsBinary: '/cache/go/bin/fake-gcs-server',
  gcsTag: 'abc123',
  cacheDir: '/cache/twin',
  nodeBin: '/usr/bin/node',
};
