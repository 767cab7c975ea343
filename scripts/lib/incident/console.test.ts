// The Compute fallback through the real @google-cloud/compute client, against a small local HTTP
// server that answers the four REST endpoints it calls (instances.get, getSerialPortOutput,
// reset, zoneOperations.wait) the way the Compute API does. Nothing of the library is replaced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERIAL_OUTPUT, startComputeFake } from '../../../test/support/compute-fake.ts';
import { consoleHints, readConsole, resetVm, tail } from './console.ts';

const vm = { project: 'e2m-prod', zone: 'us-west1-b', instance: 'e2m-prod-vm' };
let fake: Awaited<ReturnType<typeof startComputeFake>>;
let base: string;
let endpoint: string;
let requests: string[];

beforeAll(async () => {
  fake = await startComputeFake(vm);
  ({ base, endpoint, requests } = fake);
});

afterAll(() => fake.close());

describe('Compute fallback (serial console, reset) against a local fake of the REST API', () => {
  it('reads the instance status and the serial port 1 output', async () => {
    const out = await readConsole(vm, endpoint);
    expect(out).toEqual({
      status: 'RUNNING',
      contents: SERIAL_OUTPUT,
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
