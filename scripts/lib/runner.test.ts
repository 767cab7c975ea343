import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CommandError, LocalRunner, RecordingRunner, shellQuote, toShell } from './runner.ts';

// What a POSIX shell makes of a command line: the words it passes to the program.
function shellSplit(line: string): string[] {
  const r = spawnSync('sh', ['-c', `${line.replace(/^printf /, 'printf "%s\\0" ')}`], { encoding: 'utf8' });
  return r.stdout.split('\0').slice(0, -1);
}

describe('shell quoting (the one place argv becomes shell text)', () => {
  it('leaves safe words bare and quotes the rest', () => {
    expect(shellQuote('docker')).toBe('docker');
    expect(shellQuote('--cgroup-parent=/docker/abc/inner')).toBe('--cgroup-parent=/docker/abc/inner');
    expect(shellQuote('127.0.0.1:2222:22')).toBe('127.0.0.1:2222:22');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
  });

  it('round-trips hostile words through a real shell unchanged', () => {
    const words = [
      'plain',
      'two words',
      "it's",
      '"double"',
      '$(rm -rf /)',
      '`id`',
      'a;b|c&d',
      '*',
      '~',
      'new\nline',
      '',
      'tab\there',
      '\\',
      "''",
    ];
    expect(shellSplit(toShell(['printf', ...words]))).toEqual(words);
  });

  it('refuses an empty argv', () => {
    expect(() => toShell([])).toThrow(/empty argv/);
  });
});

describe('LocalRunner', () => {
  const local = new LocalRunner();

  it('passes argv through without a shell in between', async () => {
    expect(await local.capture(['printf', '%s|', 'a b', '$HOME', "it's"])).toBe("a b|$HOME|it's|");
  });

  it('feeds input to stdin', async () => {
    expect(await local.capture(['cat'], { input: 'from stdin' })).toBe('from stdin');
  });

  it('throws CommandError naming the command on failure, unless check is false', async () => {
    await expect(local.run(['sh', '-c', 'echo boom >&2; exit 3'])).rejects.toThrow(CommandError);
    await expect(local.run(['sh', '-c', 'echo boom >&2; exit 3'])).rejects.toThrow(
      /local: `sh -c 'echo boom >&2; exit 3'` exited 3:\nboom/,
    );
    const r = await local.run(['sh', '-c', 'exit 3'], { check: false });
    expect(r.code).toBe(3);
  });
});

describe('RecordingRunner', () => {
  it('records commands as shell lines and answers from its script', async () => {
    const rec = new RecordingRunner((argv) =>
      argv[0] === 'hostname' ? { stdout: 'e2m-twin\n' } : undefined,
    );
    expect(await rec.capture(['hostname'])).toBe('e2m-twin');
    await rec.run(['echo', 'a b'], { input: 'x' });
    await rec.upload('/tmp/a', '/srv/a');
    expect(rec.commands).toEqual(['hostname', "echo 'a b'"]);
    expect(rec.calls[1]).toEqual({ kind: 'run', argv: ['echo', 'a b'], input: 'x' });
    expect(rec.calls[2]).toEqual({ kind: 'upload', localPath: '/tmp/a', remotePath: '/srv/a' });
  });

  it('fails like a real runner when the script says so', async () => {
    const rec = new RecordingRunner(() => ({ code: 1, stderr: 'nope' }));
    await expect(rec.run(['false'])).rejects.toThrow(/recording: `false` exited 1:\nnope/);
  });
});
