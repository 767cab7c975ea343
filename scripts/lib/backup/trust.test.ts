// Which objects the tools believe: exact verdicts for the forgeries a VM with create-only access
// can upload (test/backup/attacker.test.ts uploads them to the emulator).
import { describe, expect, it } from 'vitest';
import { type Manifest, objectName } from './plan.ts';
import {
  chooseBackup,
  distrust,
  judgeBackups,
  parseBefore,
  type StoredManifest,
  type StoredObject,
  trusted,
} from './trust.ts';

const NOW = new Date('2026-12-02T12:00:00Z');
const created = new Date('2026-12-02T03:15:09Z');
const named = new Date('2026-12-02T03:15:07Z');

function dump(at: Date, made = created, size = 100, md5 = 'bWQ1'): StoredObject {
  return { name: objectName('prod', at, 'r1'), size, md5, created: made };
}
function manifestOf(o: StoredObject, over: Partial<Manifest> = {}, made = o.created): StoredManifest {
  return { manifest: { object: o.name, bytes: o.size, md5: o.md5, ...over } as Manifest, created: made };
}

describe('distrust', () => {
  it('believes a dump named at its run start, created by GCS when its upload ended, with its manifest', () => {
    const o = dump(named);
    expect(distrust(o, named, manifestOf(o, {}, new Date(created.getTime() + 400)), NOW)).toBeUndefined();
    // A run as long as the unit allows (1 h) is still believed; a manifest-less one is incomplete, not forged.
    const long = dump(named, new Date(named.getTime() + 60 * 60_000));
    expect(distrust(long, named, manifestOf(long), NOW)).toBeUndefined();
    expect(distrust(o, named, undefined, NOW)).toBeUndefined();
  });

  it('rejects names GCS contradicts: the future, after creation, long before creation', () => {
    const far = new Date('2099-01-01T03:15:00Z');
    expect(distrust(dump(far), far, undefined, NOW)).toBe(
      'is dated in the future: named 2099-01-01T03:15:00.000Z, now 2026-12-02T12:00:00.000Z',
    );
    const late = new Date('2026-12-02T11:59:00Z'); // "late on the day", uploaded at 03:15
    expect(distrust(dump(late), late, undefined, NOW)).toBe(
      'is named 2026-12-02T11:59:00.000Z, later than GCS created it (2026-12-02T03:15:09.000Z): a run is named when it starts',
    );
    const back = new Date('2026-12-01T23:59:00Z'); // backdated into a day of genuine history
    expect(distrust(dump(back), back, undefined, NOW)).toBe(
      'is named 2026-12-01T23:59:00.000Z but GCS created it at 2026-12-02T03:15:09.000Z, longer after than any run takes (60 min)',
    );
  });

  it('rejects an object or manifest without a creation time (every time check would pass on NaN)', () => {
    const o = dump(named, new Date('not a time'));
    expect(distrust(o, named, undefined, NOW)).toBe('has no creation time from GCS');
    const p = dump(named);
    expect(distrust(p, named, manifestOf(p, {}, new Date(Number.NaN)), NOW)).toBe(
      'has no creation time from GCS',
    );
  });

  it('rejects a manifest that does not match what GCS holds, or that came later than the job writes it', () => {
    const o = dump(named);
    const why = (m: StoredManifest) => distrust(o, named, m, NOW);
    expect(why({ manifest: undefined, created })).toBe(
      'does not match its manifest: the manifest is not valid JSON',
    );
    expect(why(manifestOf(o, { object: 'prod/other.sql.zst' }))).toBe(
      'does not match its manifest: the manifest describes prod/other.sql.zst',
    );
    expect(why(manifestOf(o, { bytes: 99 }))).toBe(
      'does not match its manifest: GCS holds 100 B, the manifest says 99 B',
    );
    expect(why(manifestOf(o, { md5: 'b3RoZXI=' }))).toBe(
      "does not match its manifest: GCS's MD5 is bWQ1, the manifest says b3RoZXI=",
    );
    expect(why(manifestOf(o, { md5: '' }))).toBe(
      "does not match its manifest: GCS's MD5 is bWQ1, the manifest says none",
    );
    expect(why(manifestOf(o, {}, new Date('2026-12-02T09:00:00Z')))).toBe(
      'does not match its manifest: GCS created the manifest at 2026-12-02T09:00:00.000Z, the dump at 2026-12-02T03:15:09.000Z',
    );
  });
});

describe('judgeBackups', () => {
  it("orders by GCS's time, keeps the name's as namedAt, and leaves out other envs and other files", () => {
    const older = dump(new Date('2026-12-01T03:15:00Z'), new Date('2026-12-01T03:15:02Z'));
    const newer = dump(named);
    const forged = dump(new Date('2099-01-01T00:00:00Z'), new Date('2026-12-02T04:00:00Z'));
    const other = { ...newer, name: objectName('staging', named, 'r1') };
    const stray = { ...newer, name: 'prod/notes.txt' };
    const manifests = new Map([older, newer, forged].map((o) => [o.name, manifestOf(o)]));
    const list = judgeBackups('prod', [older, forged, newer, other, stray], manifests, NOW);
    expect(list.map((e) => [e.object, e.at.toISOString(), e.namedAt.toISOString(), trusted(e)])).toEqual([
      [forged.name, '2026-12-02T04:00:00.000Z', '2099-01-01T00:00:00.000Z', false],
      [newer.name, '2026-12-02T03:15:09.000Z', '2026-12-02T03:15:07.000Z', true],
      [older.name, '2026-12-01T03:15:02.000Z', '2026-12-01T03:15:00.000Z', true],
    ]);
    expect(list[0].rejected).toMatch(/^is dated in the future/);
  });

  it('a dump without a manifest is incomplete, not rejected, and not trusted', () => {
    const [e] = judgeBackups('prod', [dump(named)], new Map(), NOW);
    expect([e.complete, e.rejected, trusted(e)]).toEqual([false, undefined, false]);
  });
});

describe('chooseBackup', () => {
  const at = (iso: string) => dump(new Date(iso), new Date(iso));
  const [a, b, c] = ['2026-12-02T03:15:00Z', '2026-12-01T03:15:00Z', '2026-11-30T03:15:00Z'].map(at);
  const forged = dump(new Date('2099-01-01T00:00:00Z'), new Date('2026-12-02T05:00:00Z'));
  const manifests = new Map([a, b, c, forged].map((o) => [o.name, manifestOf(o)]));
  const list = judgeBackups('prod', [a, b, c, forged], manifests, NOW);
  const where = 'gs://b/prod/';

  it('takes the newest trusted by default, the newest trusted at or before --before, or the one named', () => {
    expect(chooseBackup(list, {}, where).object).toBe(a.name);
    expect(chooseBackup(list, { before: new Date('2026-12-01T03:15:00Z') }, where).object).toBe(b.name);
    expect(chooseBackup(list, { before: new Date('2026-12-01T03:14:59Z') }, where).object).toBe(c.name);
    expect(chooseBackup(list, { object: c.name }, where).object).toBe(c.name);
  });

  it('refuses, saying why: nothing that early, an unknown name, a rejected or incomplete object', () => {
    expect(() => chooseBackup(list, { before: new Date('2026-01-01T00:00:00Z') }, where)).toThrow(
      'no complete, trusted backup under gs://b/prod/ created at or before 2026-01-01T00:00:00.000Z',
    );
    expect(() => chooseBackup(list, { object: 'prod/x.sql.zst' }, where)).toThrow(
      'no backup named prod/x.sql.zst under gs://b/prod/',
    );
    expect(() => chooseBackup(list, { object: forged.name }, where)).toThrow(
      `${forged.name} is not trusted: it is dated in the future`,
    );
    const bare = judgeBackups('prod', [a], new Map(), NOW);
    expect(() => chooseBackup(bare, { object: a.name }, where)).toThrow('is incomplete (no manifest)');
  });

  it('--before needs an ISO time with its zone', () => {
    expect(parseBefore(undefined)).toBeUndefined();
    expect(parseBefore('2026-12-01T12:00:00Z')).toEqual(new Date('2026-12-01T12:00:00Z'));
    expect(parseBefore('2026-12-01T12:00:00-0500')).toEqual(new Date('2026-12-01T17:00:00Z'));
    expect(() => parseBefore('2026-12-01T12:00:00')).toThrow('--before must be an ISO time with its zone');
    expect(() => parseBefore('yesterdayZ')).toThrow('--before must be an ISO time with its zone');
  });
});
