// The binlog shipper's state file (/var/lib/e2m-backup/binlog.json): read by the shipper, by the
// nightly dump (its manifest names the lineage) and, through `incident status`, for the lag.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShipState } from './binlog-plan.ts';
import type { BackupConfig } from './plan.ts';

const stateFile = (cfg: BackupConfig) => join(cfg.stateDir, 'binlog.json');

/** The shipper's state; the first call on a VM starts its lineage and saves it. */
export function readShipState(cfg: BackupConfig): ShipState {
  try {
    return JSON.parse(readFileSync(stateFile(cfg), 'utf8')) as ShipState;
  } catch {
    const state = { lineage: randomBytes(6).toString('hex') };
    writeShipState(cfg, state);
    return state;
  }
}

export function writeShipState(cfg: BackupConfig, state: ShipState): void {
  const tmp = `${stateFile(cfg)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state)}\n`, { mode: 0o640 });
  renameSync(tmp, stateFile(cfg));
}
