// The Compute fallback through the real @google-cloud/compute client, against a small local HTTP
// server that answers the four REST endpoints it calls (instances.get, getSerialPortOutput,
// reset, zoneOperations.wait) the way the Compute API does. Nothing of the library is replaced.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleHints, readConsole, resetVm, tail } from './console.ts';

const vm = { project: 'e2m-prod', zone: 'us-west1-b', instance: 'e2m-prod-vm' };
const base = `/compute/v1/projects/${vm.project}/zones/${vm.zone}`;
const requests: string[] = [];
let server: Server;
let endpoint: string;
let waits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${(req.url ?? '').replace(/\?$/, '')}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === `${base}/instances/${vm.instance}`)
      return send(200, { name: vm.instance, status: 'RUNNING' });
    if (req.method === 'GET' && url.pathname === `${base}/instances/${vm.instance}/serialPort`)
      return send(200, {
        contents: 'boot ok\n[ 812.1] Out of memory: Killed process 911 (mariadbd)\nlogin:',
        next: '4096',
        start: '0',
      });
    if (req.method === 'POST' && url.pathname === `${base}/instances/${vm.instance}/reset`)
      return send(200, { name: 'operation-reset-1', status: 'RUNNING', kind: 'compute#operation' });
    if (req.method === 'POST' && url.pathname === `${base}/operations/operation-reset-1/wait`) {
      waits++;
      return send(200, { name: 'operation-reset-1', status: waits < 2 ? 'RUNNING' : 'DONE' });
    }
    if (url.pathname.endsWith('/instances/missing'))
      return send(404, {
        error: { code: 404, message: "The resource 'missing' was not found", status: 'NOT_FOUND' },
      });
    send(404, { error: { code: 404, message: `no route ${req.method} ${url.pathname}` } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('Compute fallback (serial console, reset) against a local fake of the REST API', () => {
  it('reads the instance status and the serial port 1 output', async () => {
    const out = await readConsole(vm, endpoint);
    expect(out).toEqual({
      status: 'RUNNING',
      contents: 'boot ok\n[ 812.1] Out of memory: Killed process 911 (mariadbd)\nlogin:',
      next: 4096,
    });
    expect(requests).toContain(`GET ${base}/instances/${vm.instance}/serialPort?port=1`);
  });

  it('resets the VM and waits for the zone operation until DONE', async () => {
    const r = await resetVm(vm, endpoint, 10_000);
    expect(r.operation).toBe('operation-reset-1');
    expect(requests.filter((q) => q.startsWith('POST'))).toEqual([
      `POST ${base}/instances/${vm.instance}/reset`,
      `POST ${base}/operations/operation-reset-1/wait`,
      `POST ${base}/operations/operation-reset-1/wait`,
    ]);
  });

  it('reports an unknown instance with the API message', async () => {
    await expect(readConsole({ ...vm, instance: 'missing' }, endpoint)).rejects.toThrow(/not found/);
  });
});

describe('serial output hints', () => {
  it('names what to look at first', () => {
    expect(consoleHints('x\nOut of memory: Killed process 1 (bun)\nEXT4-fs error (device sda1)')).toEqual([
      'the kernel killed processes for memory: check `incident status` memory and OOM lines once SSH answers',
      'filesystem or disk errors: snapshot the disk before anything else',
    ]);
    expect(consoleHints('login:')).toEqual([]);
    expect(tail('a\nb\nc', 2)).toBe('b\nc');
  });
});
