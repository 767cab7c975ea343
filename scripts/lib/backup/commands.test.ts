// The operator's commands on the VM, as the exact shell lines the SSH runner sends.
import { describe, expect, it } from 'vitest';
import { toShell } from '../shell.ts';
import {
  identityPath,
  installIdentity,
  jobArgv,
  jobDryRun,
  readLastRun,
  removeIdentity,
  startUnit,
} from './commands.ts';

describe('backup commands', () => {
  it('the unit, its dry run, its last result', () => {
    expect(toShell(startUnit())).toBe('sudo -n systemctl start e2m-backup.service');
    expect(toShell(jobDryRun())).toBe('sudo -n /usr/local/lib/e2-micro/e2m-backup run --dry-run --json');
    expect(toShell(readLastRun())).toBe('sudo -n cat /var/lib/e2m-backup/last.json');
  });

  it('the key on tmpfs for one command, readable by its owner only', () => {
    const key = identityPath(99);
    expect(key).toBe('/run/e2m-backup-identity-99');
    expect(toShell(installIdentity(key, 'e2m-backup'))).toBe(
      'sudo -n install -m 0400 -o e2m-backup /dev/stdin /run/e2m-backup-identity-99',
    );
    expect(toShell(removeIdentity(key))).toBe('sudo -n rm -f /run/e2m-backup-identity-99');
  });

  it('the job as its user; restore --force as root; every flag passed on in order', () => {
    expect(toShell(jobArgv('verify', { object: 'o', identity: '/run/k' }))).toBe(
      'sudo -n -u e2m-backup /usr/local/lib/e2-micro/e2m-backup verify --identity /run/k o --json',
    );
    expect(
      toShell(jobArgv('restore', { before: '2026-12-01T03:00:00Z', toDatabase: 'app', force: true })),
    ).toBe(
      'sudo -n /usr/local/lib/e2-micro/e2m-backup restore --before 2026-12-01T03:00:00Z --to-database app --force --json',
    );
    expect(
      toShell(
        jobArgv('restore', {
          object: 'twin/x.sql.zst',
          toDatabase: 'app',
          toDefaultsFile: '/etc/c.cnf',
          force: true,
          dryRun: true,
        }),
      ),
    ).toBe(
      'sudo -n /usr/local/lib/e2-micro/e2m-backup restore twin/x.sql.zst --to-database app --to-defaults-file /etc/c.cnf --force --dry-run --json',
    );
    expect(toShell(jobArgv('run', { fromDefaultsFile: '/etc/g.cnf', fromDatabase: 'growth' }))).toBe(
      'sudo -n -u e2m-backup /usr/local/lib/e2-micro/e2m-backup run --from-defaults-file /etc/g.cnf --from-database growth --json',
    );
  });
});
