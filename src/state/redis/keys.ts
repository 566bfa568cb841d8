/**
 * Where the service-wide keys live. A programme's keys carry its own hash tag
 * (`<prefix>{<scheduleUID>}:…`, see `RedisStore.key`), so a Redis Cluster spreads programmes over
 * its shards. The keys that belong to no programme (the registry of live servers, their socket
 * lists, the orphans of dead servers, the shared deadlines, the list of programmes with state, the
 * records outbox) are few and small, and `CLAIM_DEAD` must move a dead server's sockets in one
 * step, so they share one hash tag of their own: one slot, on one shard (docs/scaling.md weighs
 * what that shard carries). `_service` can never be a programme's tag: a scheduleUID may not start
 * with `_` (`SCHEDULE_UID_PATTERN`).
 */
export const SERVICE_TAG = '{_service}';

/** `<prefix>{_service}:<what>`: one slot for every service-wide key. */
export function serviceKey(prefix: string, what: string): string {
  return `${prefix}${SERVICE_TAG}:${what}`;
}

/** `<prefix>{<p>}:<what>`: a programme's key, in the programme's slot. The state store's and the
 * moderation store's keys are both made here, so a script of one may read a key of the other
 * (the moderation's admission reads the state's seats). */
export function programmeKey(prefix: string, p: string, what = ''): string {
  return `${prefix}{${p}}:${what}`;
}
