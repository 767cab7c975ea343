// Pure: which objects in the backups bucket the tools believe. The bucket is untrusted input:
// the VM's service account may create any object there, with any name and a manifest to match
// (a compromised VM can). What it cannot choose is when GCS created an object (timeCreated, the
// server's clock) nor the size and MD5 that GCS computed of the bytes it received. So a backup's
// time is its timeCreated, and a name or manifest that disagrees with what GCS says rejects it.
import { type BackupEntry, type Manifest, parseObjectName, trusted } from './plan.ts';

export { trusted };

/** One object as GCS lists it: the fields the VM cannot forge come from the server. */
export interface StoredObject {
  name: string;
  size: number;
  /** GCS's MD5 of the stored bytes (base64). */
  md5: string;
  /** GCS's timeCreated. */
  created: Date;
}

/** A dump's manifest object: its parsed body (undefined when not valid JSON) and when GCS made it. */
export interface StoredManifest {
  manifest: Manifest | undefined;
  created: Date;
}

export interface TrustLimits {
  /** The longest a run may take: the name carries the run's start, timeCreated the end of its
   * upload. The unit's TimeoutStartSec (ansible/roles/backup) is 1 h. */
  maxRunMs: number;
  /** How far the VM's clock may be from GCS's (chrony keeps it to well under a second). */
  skewMs: number;
}
export const TRUST_LIMITS: TrustLimits = { maxRunMs: 60 * 60_000, skewMs: 5 * 60_000 };

const iso = (d: Date) => d.toISOString();

/** Why the tools must not believe this dump (a phrase after "it"), or undefined when they may. */
export function distrust(
  o: StoredObject,
  namedAt: Date,
  m: StoredManifest | undefined,
  now: Date,
  limits: TrustLimits = TRUST_LIMITS,
): string | undefined {
  // Every comparison below is false against NaN: an object without a creation time is not believed.
  if (Number.isNaN(o.created.getTime()) || (m && Number.isNaN(m.created.getTime())))
    return 'has no creation time from GCS';
  if (namedAt.getTime() > now.getTime() + limits.skewMs)
    return `is dated in the future: named ${iso(namedAt)}, now ${iso(now)}`;
  if (namedAt.getTime() > o.created.getTime() + limits.skewMs)
    return `is named ${iso(namedAt)}, later than GCS created it (${iso(o.created)}): a run is named when it starts`;
  if (namedAt.getTime() < o.created.getTime() - limits.maxRunMs - limits.skewMs)
    return `is named ${iso(namedAt)} but GCS created it at ${iso(o.created)}, longer after than any run takes (${limits.maxRunMs / 60_000} min)`;
  if (!m) return undefined; // incomplete, not forged: a run that died before its manifest
  const man = m.manifest;
  if (!man) return 'does not match its manifest: the manifest is not valid JSON';
  if (man.object !== o.name) return `does not match its manifest: the manifest describes ${man.object}`;
  if (man.bytes !== o.size)
    return `does not match its manifest: GCS holds ${o.size} B, the manifest says ${man.bytes} B`;
  if (man.md5 !== o.md5)
    return `does not match its manifest: GCS's MD5 is ${o.md5}, the manifest says ${man.md5 || 'none'}`;
  // The job writes the manifest right after the upload ends; one added later is not the job's.
  const lag = m.created.getTime() - o.created.getTime();
  if (lag < -limits.skewMs || lag > limits.maxRunMs)
    return `does not match its manifest: GCS created the manifest at ${iso(m.created)}, the dump at ${iso(o.created)}`;
  return undefined;
}

/**
 * The env's dumps with their manifests, judged; newest (by timeCreated) first. Objects of other
 * envs and names that are not dumps are left out. `complete`: it has a manifest; `rejected`: why
 * it is not believed. Only entries that are complete and not rejected are ever restored or kept.
 */
export function judgeBackups(
  env: string,
  objects: StoredObject[],
  manifests: Map<string, StoredManifest>,
  now: Date,
  limits: TrustLimits = TRUST_LIMITS,
): BackupEntry[] {
  const out: BackupEntry[] = [];
  for (const o of objects) {
    const parsed = parseObjectName(o.name);
    if (!parsed || parsed.env !== env) continue;
    const m = manifests.get(o.name);
    const rejected = distrust(o, parsed.at, m, now, limits);
    out.push({
      object: o.name,
      at: o.created,
      namedAt: parsed.at,
      release: parsed.release,
      bytes: o.size,
      encrypted: parsed.encrypted,
      complete: m !== undefined,
      ...(rejected ? { rejected } : {}),
      ...(m?.manifest ? { manifest: m.manifest } : {}),
    });
  }
  return out.sort((a, b) => b.at.getTime() - a.at.getTime());
}

/** What a restore or drill takes: the object named, or the newest trusted one created at or
 * before `before` (GCS's time), or, with neither, the newest trusted one. */
export interface BackupChoice {
  object?: string;
  before?: Date;
}

/** The backup `choice` names among `entries` (newest first); every refusal says why. */
export function chooseBackup(entries: BackupEntry[], choice: BackupChoice, where: string): BackupEntry {
  const { object, before } = choice;
  if (object === undefined) {
    const pick = entries.find((e) => trusted(e) && (!before || e.at.getTime() <= before.getTime()));
    if (!pick)
      throw new Error(
        `no complete, trusted backup under ${where}${before ? ` created at or before ${before.toISOString()}` : ''}`,
      );
    return pick;
  }
  const entry = entries.find((e) => e.object === object);
  if (!entry) throw new Error(`no backup named ${object} under ${where}`);
  if (entry.rejected) throw new Error(`${object} is not trusted: it ${entry.rejected}`);
  if (!entry.complete || !entry.manifest)
    throw new Error(`${object} is incomplete (no manifest): the run that made it failed`);
  return entry;
}

/** --before's value: an ISO time with its zone (a bare local time would mean a different moment
 * on the VM and on your machine). */
export function parseBefore(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(value) || Number.isNaN(at.getTime()))
    throw new Error(`--before must be an ISO time with its zone, e.g. 2026-12-02T03:00:00Z (got "${value}")`);
  return at;
}
