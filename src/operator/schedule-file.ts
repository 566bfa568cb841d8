/** `SCHEDULE_FILE`: a JSON array of programmes, read once at start. A bad file stops the start. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/config.js';
import type { Programme } from '../domain/schedule.js';
import { scheduleFile } from './admin-schemas.js';

export function loadScheduleFile(path: string): Programme[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`SCHEDULE_FILE: cannot read ${path} as JSON (${err instanceof Error ? err.message : String(err)})`]);
  }
  const r = scheduleFile.safeParse(data);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new ConfigError([`SCHEDULE_FILE: ${path}: at ${first?.path.join('.') || '(top)'}: ${first?.message ?? 'invalid'}`]);
  }
  const seen = new Set<string>();
  for (const p of r.data) {
    if (seen.has(p.scheduleUID)) throw new ConfigError([`SCHEDULE_FILE: ${path}: scheduleUID ${p.scheduleUID} appears twice`]);
    seen.add(p.scheduleUID);
  }
  return r.data;
}
