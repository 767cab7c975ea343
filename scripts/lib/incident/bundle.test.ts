// The bundle through the recording runner and the real tar: every collected text, the extras and
// the env file come out without a secret value; a failed collect is kept with its exit code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordingRunner } from '../runner.ts';
import { buildBundle } from './bundle.ts';

const ENV =
  'APP_ENV=twin\nDATABASE_URL=mysql://app:Pa55-word-xyz@10.213.0.1:3306/app\nREDIS_URL=redis://:r3dis-s3cret@10.213.0.1:6379/0\n';

describe('buildBundle', () => {
  it('writes a tar.gz with no secret in any file', async () => {
    const vm = new RecordingRunner((argv) => {
      const line = argv.join(' ');
      if (line === 'sudo -n cat /etc/e2-micro/app.env') return { stdout: ENV };
      if (line.startsWith('sudo -n docker inspect e2m-app-blue'))
        return {
          stdout: '[{"Config":{"Env":["DATABASE_URL=mysql://app:Pa55-word-xyz@10.213.0.1:3306/app"]}}]',
        };
      if (line.startsWith('sudo -n docker inspect e2m-app-green'))
        return { code: 1, stderr: 'Error: No such object: e2m-app-green' };
      if (line.includes('journalctl') && line.includes('redis-server'))
        return { stdout: 'AUTH failed for password r3dis-s3cret\n' };
      return { stdout: `output of ${argv[0]}\n` };
    });
    const out = join(mkdtempSync(join(tmpdir(), 'e2m-bundle-test-')), 'b.tar.gz');
    const r = await buildBundle(vm, out, { 'status.txt': 'ok  database  Pa55-word-xyz?' });
    expect(r).toMatchObject({ file: out, redacted: 4 });
    const dir = mkdtempSync(join(tmpdir(), 'e2m-bundle-unpacked-'));
    execFileSync('tar', ['-xzf', out, '-C', dir]);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
      statSync(join(dir, f)).isFile(),
    );
    expect(files.length).toBe(r.files);
    const all = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    for (const secret of ['Pa55-word-xyz', 'r3dis-s3cret']) expect(all).not.toContain(secret);
    expect(readFileSync(join(dir, 'config/app.env'), 'utf8')).toBe(
      'APP_ENV=twin\nDATABASE_URL=[redacted]\nREDIS_URL=[redacted]\n',
    );
    expect(readFileSync(join(dir, 'journal/redis-server.log'), 'utf8')).toBe(
      'AUTH failed for password [redacted]\n',
    );
    expect(readFileSync(join(dir, 'docker/e2m-app-green.inspect.json'), 'utf8')).toBe(
      '\n# exit 1: Error: No such object: e2m-app-green\n',
    );
    expect(readFileSync(join(dir, 'status.txt'), 'utf8')).toBe('ok  database  [redacted]?');
  });
});
