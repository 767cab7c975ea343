// Pure: OpenSSH known_hosts text, read (which keys pin host:port) and written (what
// `npm run infra:inventory` records from the VM's guest attributes). Every SSH connection of the
// scripts is checked against such a file (runner.ts); none trusts a key on first use.
import { createHash } from 'node:crypto';

/** How OpenSSH names host:port in known_hosts: port 22 bare, any other as [host]:port. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export interface HostKey {
  /** e.g. ssh-ed25519, ecdsa-sha2-nistp256 */
  type: string;
  /** base64 of the key blob */
  key: string;
}

/** The keys a known_hosts file lists for host:port. */
export function knownHostEntries(knownHosts: string, host: string, port: number): HostKey[] {
  const name = hostPattern(host, port);
  return knownHosts
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && !f[0].startsWith('#') && f[0].split(',').includes(name))
    .map((f) => ({ type: f[1], key: f[2] }));
}

/** The host keys (base64 blobs) a known_hosts file lists for host:port. */
export function knownHostKeys(knownHosts: string, host: string, port: number): string[] {
  return knownHostEntries(knownHosts, host, port).map((k) => k.key);
}

const KEY_TYPE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Refuses what is not a public host key, so nothing else can be smuggled into the file. */
export function checkHostKey(k: HostKey, source: string): HostKey {
  if (!KEY_TYPE.test(k.type)) throw new Error(`${source}: "${k.type}" is not an SSH host key type`);
  if (!BASE64.test(k.key)) throw new Error(`${source}: the ${k.type} key is not base64`);
  return k;
}

/** known_hosts lines pinning `keys` for host:port, under a comment saying where they came from. */
export function knownHostsText(host: string, port: number, keys: HostKey[], comment: string): string {
  const name = hostPattern(host, port);
  return [`# ${comment}`, ...keys.map((k) => `${name} ${k.type} ${k.key}`), ''].join('\n');
}

/** OpenSSH's SHA256 fingerprint of a key blob, as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
