import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHostKey, fingerprint, knownHostKeys, knownHostsText } from './known-hosts.ts';

describe('knownHostKeys', () => {
  const file =
    '# comment\n[127.0.0.1]:2222 ssh-ed25519 AAAAkey1\n127.0.0.1 ssh-ed25519 AAAAkey22\nexample.com,10.0.0.1 ssh-rsa AAAArsa\n';
  it('finds keys by host and port as OpenSSH writes them', () => {
    expect(knownHostKeys(file, '127.0.0.1', 2222)).toEqual(['AAAAkey1']);
    expect(knownHostKeys(file, '127.0.0.1', 22)).toEqual(['AAAAkey22']);
    expect(knownHostKeys(file, '10.0.0.1', 22)).toEqual(['AAAArsa']);
    expect(knownHostKeys(file, '127.0.0.1', 2200)).toEqual([]);
  });
});

describe('knownHostsText', () => {
  it('writes lines OpenSSH itself accepts for host:port, and reads back the same keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2m-kh-'));
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const [type, key] = readFileSync(join(dir, 'k.pub'), 'utf8').split(' ');
    const text = knownHostsText('203.0.113.7', 2222, [{ type, key }], 'from guest attributes');
    writeFileSync(join(dir, 'known_hosts'), text);
    expect(knownHostKeys(text, '203.0.113.7', 2222)).toEqual([key]);
    // ssh-keygen -F finds the host in the file: OpenSSH reads what we wrote.
    const found = spawnSync('ssh-keygen', ['-F', '[203.0.113.7]:2222', '-f', join(dir, 'known_hosts')], {
      encoding: 'utf8',
    });
    expect(found.status, found.stderr).toBe(0);
    expect(found.stdout).toContain(key);
    // The fingerprint is the one ssh-keygen prints for the key.
    const lf = spawnSync('ssh-keygen', ['-lf', join(dir, 'k.pub')], { encoding: 'utf8' }).stdout;
    expect(lf).toContain(fingerprint(Buffer.from(key, 'base64')));
  });
});

describe('checkHostKey', () => {
  it('accepts host key types and refuses anything else, naming the source', () => {
    expect(checkHostKey({ type: 'ssh-ed25519', key: 'AAAAC3Nza' }, 'x')).toEqual({
      type: 'ssh-ed25519',
      key: 'AAAAC3Nza',
    });
    expect(() =>
      checkHostKey({ type: 'ssh-ed25519\n* ssh-rsa', key: 'AAAA' }, 'guest attribute hostkeys/x'),
    ).toThrow(/^guest attribute hostkeys\/x: [\s\S]* is not an SSH host key type$/);
    expect(() => checkHostKey({ type: 'ssh-ed25519', key: 'AAAA B\nevil' }, 'attr')).toThrow(/not base64/);
  });
});
