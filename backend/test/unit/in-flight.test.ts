import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/shutdown.ts';

// A request is in flight until its response closes, not when the middleware returns.
function fakeCtx() {
  return { res: new EventEmitter() } as unknown as Parameters<ReturnType<InFlight['middleware']>>[0];
}

describe('InFlight', () => {
  it('settles at once when idle, and only after the last response closes otherwise', async () => {
    const f = new InFlight();
    expect(await f.settled(10)).toBe(true);
    const mw = f.middleware();
    const a = fakeCtx();
    const b = fakeCtx();
    await mw(a, async () => {});
    await mw(b, async () => {});
    expect(f.count).toBe(2);
    const settled = f.settled(1_000);
    a.res.emit('close');
    expect(f.count).toBe(1);
    b.res.emit('close');
    expect(await settled).toBe(true);
  });

  it('reports false when the deadline comes first', async () => {
    const f = new InFlight();
    await f.middleware()(fakeCtx(), async () => {});
    expect(await f.settled(20)).toBe(false);
  });
});
