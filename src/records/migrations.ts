/**
 * The schema, as numbered steps. A step never changes once released: a new need is a new step.
 * Both databases take the same statements (types chosen to mean the same in each).
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'finished aggros',
    statements: [
      `CREATE TABLE aggros (
        aggro_uid    TEXT PRIMARY KEY,
        schedule_uid TEXT NOT NULL,
        room_id      TEXT NOT NULL,
        user_uid     TEXT NOT NULL,
        display_name TEXT NOT NULL,
        msg          TEXT NOT NULL,
        type         TEXT NOT NULL,
        title_broad  TEXT,
        point        INTEGER NOT NULL,
        up           INTEGER NOT NULL,
        down         INTEGER NOT NULL,
        started_at   BIGINT NOT NULL,
        ended_at     BIGINT NOT NULL,
        end_reason   TEXT NOT NULL
      )`,
      `CREATE INDEX aggros_best ON aggros (schedule_uid, point DESC, ended_at DESC, aggro_uid)`,
    ],
  },
  {
    version: 2,
    name: 'schedule, persistent rooms, bans',
    statements: [
      `CREATE TABLE programs (
        schedule_uid TEXT PRIMARY KEY,
        title        TEXT NOT NULL,
        broadcaster  TEXT NOT NULL,
        start_at     BIGINT NOT NULL,
        end_at       BIGINT NOT NULL,
        updated_at   BIGINT NOT NULL
      )`,
      `CREATE TABLE persistent_rooms (
        room_id       TEXT PRIMARY KEY,
        schedule_uid  TEXT NOT NULL,
        title         TEXT NOT NULL,
        max           INTEGER NOT NULL,
        password_hash TEXT,
        created_at    BIGINT NOT NULL
      )`,
      `CREATE INDEX persistent_rooms_program ON persistent_rooms (schedule_uid, created_at)`,
      // scope: a scheduleUID, or '*' for everywhere.
      `CREATE TABLE bans (
        user_uid   TEXT NOT NULL,
        scope      TEXT NOT NULL,
        reason     TEXT,
        until      BIGINT,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_uid, scope)
      )`,
    ],
  },
  {
    version: 3,
    name: 'the app API: authors\' photos, a user\'s own aggros by an index range',
    statements: [
      `ALTER TABLE aggros ADD COLUMN photo_url TEXT`,
      // GET /v1/me/aggros, newest first: the cursor (ended_at, aggro_uid) is one row-value bound.
      `CREATE INDEX aggros_mine ON aggros (user_uid, ended_at DESC, aggro_uid DESC)`,
    ],
  },
  {
    version: 4,
    name: 'moderation: word filter, audit log, reports',
    statements: [
      // The whole filter list is one document, replaced by one UPDATE: a server polling the
      // version never reads half a list.
      `CREATE TABLE filter_list (
        id         INTEGER PRIMARY KEY,
        version    BIGINT NOT NULL,
        entries    TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `INSERT INTO filter_list (id, version, entries, updated_at) VALUES (1, 0, '[]', 0)`,
      `CREATE TABLE audit_log (
        id           TEXT PRIMARY KEY,
        at           BIGINT NOT NULL,
        actor        TEXT NOT NULL,
        action       TEXT NOT NULL,
        schedule_uid TEXT,
        target       TEXT,
        reason       TEXT,
        detail       TEXT
      )`,
      `CREATE INDEX audit_newest ON audit_log (at DESC, id DESC)`,
      `CREATE INDEX audit_program ON audit_log (schedule_uid, at DESC, id DESC)`,
      `CREATE TABLE reports (
        id           TEXT PRIMARY KEY,
        schedule_uid TEXT NOT NULL,
        room_id      TEXT NOT NULL,
        target_kind  TEXT NOT NULL,
        target_id    TEXT NOT NULL,
        target_user  TEXT,
        text         TEXT,
        reporter     TEXT NOT NULL,
        reason       TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        status       TEXT NOT NULL,
        resolution   TEXT,
        resolved_by  TEXT,
        resolved_at  BIGINT,
        UNIQUE (schedule_uid, target_kind, target_id, reporter)
      )`,
      `CREATE INDEX reports_queue ON reports (status, created_at DESC, id DESC)`,
    ],
  },
];

export const LATEST_VERSION = MIGRATIONS.at(-1)!.version;
