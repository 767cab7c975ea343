import { describe, expect, it } from 'vitest';
import { expandProxyCommand, openProxy } from './proxy.ts';

describe('expandProxyCommand', () => {
  it("fills in OpenSSH's %h %p %r and %%", () => {
    expect(expandProxyCommand('tunnel %h %p as %r 100%%', { host: 'vm-1', port: 22, user: 'deploy' })).toBe(
      'tunnel vm-1 22 as deploy 100%',
    );
  });
});

describe('openProxy', () => {
  it("carries bytes both ways through the command's stdio", async () => {
    const p = openProxy('cat');
    const echoed = new Promise<string>((resolve) =>
      p.sock.once('data', (b: Buffer) => resolve(b.toString())),
    );
    p.sock.write('hello');
    expect(await echoed).toBe('hello');
    p.close();
  });

  it("keeps the command's stderr for the error message", async () => {
    const p = openProxy('echo "tunnel refused: no IAP permission" >&2; exit 1');
    await new Promise<void>((resolve) => p.sock.on('end', () => resolve()).resume());
    await p.settled(5000);
    expect(p.stderr()).toBe('tunnel refused: no IAP permission');
    p.close();
  });
});
