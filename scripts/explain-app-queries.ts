/**
 * Prints the query plans of the app API's record pages (docs/app-api.md quotes them), on a
 * SQLite file and, with `PG_URL`, a PostgreSQL schema of its own, each filled with enough rows
 * that the planner would rather scan if the index did not serve the page.
 * Run: `node --import tsx scripts/explain-app-queries.ts` (PG_URL=postgres://... for PostgreSQL).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MIGRATIONS } from '../src/records/migrations.js';

const ROWS = 20_000;
const best = 'SELECT * FROM aggros WHERE schedule_uid = $1 AND point <= $2 AND (point < $2 OR (point = $2 AND (ended_at < $3 OR (ended_at = $3 AND aggro_uid > $4)))) ORDER BY point DESC, ended_at DESC, aggro_uid LIMIT 21';
const mine = 'SELECT * FROM aggros WHERE user_uid = $1 AND (ended_at, aggro_uid) < ($2, $3) ORDER BY ended_at DESC, aggro_uid DESC LIMIT 21';
const bestFirst = 'SELECT * FROM aggros WHERE schedule_uid = $1 ORDER BY point DESC, ended_at DESC, aggro_uid LIMIT 21';
const mineFirst = 'SELECT * FROM aggros WHERE user_uid = $1 ORDER BY ended_at DESC, aggro_uid DESC LIMIT 21';
const params = ['p7', 30, 1_000_000, 'a100'];
const mineParams = ['u7', 1_000_000, 'a100'];
const queries = [
  ['best, first page', bestFirst, ['p7']],
  ['best, after a cursor', best, params],
  ['mine, first page', mineFirst, ['u7']],
  ['mine, after a cursor', mine, mineParams],
] as const;

function row(i: number): unknown[] {
  return [`a${i}`, `p${i % 50}`, 'r', `u${i % 500}`, 'n', 'm', 'A', null, i % 40, 0, 0, i, 1_000_000 + i, 'expired', null];
}

const dir = mkdtempSync(join(tmpdir(), 'onair-explain-'));
try {
  const db = new Database(join(dir, 'x.db'));
  for (const m of MIGRATIONS) for (const s of m.statements) db.exec(s);
  const ins = db.prepare('INSERT INTO aggros VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) ins.run(...row(i));
  })();
  db.exec('ANALYZE');
  // As the SQLite store runs them: `$n` becomes `?`, its parameter repeated in order.
  const q = (sql: string, p: readonly unknown[]): [string, unknown[]] => {
    const ordered: unknown[] = [];
    return [sql.replace(/\$(\d+)/g, (_, n: string) => (ordered.push(p[Number(n) - 1]), '?')), ordered];
  };
  console.log('SQLite', db.prepare('select sqlite_version() v').get());
  for (const [name, sql, p] of queries) {
    console.log(`-- ${name}`);
    const [text, args] = q(sql, p);
    for (const r of db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...args) as { detail: string }[]) console.log(r.detail);
  }
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (process.env.PG_URL) {
  const schema = `onair_explain_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: process.env.PG_URL });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(`SET search_path = ${schema}`);
    for (const m of MIGRATIONS) for (const s of m.statements) await c.query(s);
    for (let i = 0; i < ROWS; i += 1000) {
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (let j = i; j < i + 1000; j++) {
        const r = row(j);
        tuples.push(`(${r.map((_, k) => `$${values.length + k + 1}`).join(', ')})`);
        values.push(...r);
      }
      await c.query(`INSERT INTO aggros VALUES ${tuples.join(', ')}`, values);
    }
    await c.query('ANALYZE aggros');
    console.log('PostgreSQL', (await c.query('SHOW server_version')).rows[0]);
    for (const [name, sql, p] of queries) {
      console.log(`-- ${name}`);
      for (const r of (await c.query(`EXPLAIN ${sql}`, p)).rows as { 'QUERY PLAN': string }[]) console.log(r['QUERY PLAN']);
    }
  } finally {
    await c.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
    await c.end();
  }
}
