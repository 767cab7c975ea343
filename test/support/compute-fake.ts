// A small local stand-in of the Compute Engine REST API: the endpoints `incident console` and
// `reset` call (instances.get, getSerialPortOutput, reset, zoneOperations.wait) and the one
// `npm run infra:inventory` calls (getGuestAttributes, answering from `guestAttributes`: what the
// guest agent would have written), answered the way the API does, for one VM. The real @google-cloud/compute client talks to it over plain
// HTTP through its apiEndpoint; nothing of the library is replaced.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VmRef {
  project: string;
  zone: string;
  instance: string;
}

export const SERIAL_OUTPUT = 'boot ok\n[ 812.1] Out of memory: Killed process 911 (mariadbd)\nlogin:';

export interface GuestAttribute {
  namespace: string;
  key: string;
  value: string;
}

export async function startComputeFake(vm: VmRef, guestAttributes: GuestAttribute[] = []) {
  const base = `/compute/v1/projects/${vm.project}/zones/${vm.zone}`;
  const requests: string[] = [];
  let waits = 0;
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${(req.url ?? '').replace(/\?$/, '')}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === `${base}/instances/${vm.instance}`)
      return send(200, { name: vm.instance, status: 'RUNNING' });
    if (req.method === 'GET' && url.pathname === `${base}/instances/${vm.instance}/serialPort`)
      return send(200, { contents: SERIAL_OUTPUT, next: '4096', start: '0' });
    if (req.method === 'GET' && url.pathname === `${base}/instances/${vm.instance}/getGuestAttributes`) {
      const path = url.searchParams.get('queryPath') ?? '';
      const items = guestAttributes.filter((a) => `${a.namespace}/${a.key}`.startsWith(path));
      // The API answers 404 when nothing is under the path (as before the agent's first boot).
      if (items.length === 0)
        return send(404, {
          error: { code: 404, message: `guest attributes ${path} not found`, status: 'NOT_FOUND' },
        });
      return send(200, { kind: 'compute#guestAttributes', queryPath: path, queryValue: { items } });
    }
    if (req.method === 'POST' && url.pathname === `${base}/instances/${vm.instance}/reset`)
      return send(200, { name: 'operation-reset-1', status: 'RUNNING', kind: 'compute#operation' });
    // The operation is DONE at the second wait, as a reset that takes a moment.
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
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    base,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
