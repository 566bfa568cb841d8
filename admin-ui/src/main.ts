/**
 * The operator console: sign in with a token, then the schedule, the live programmes with a
 * room's chat watched read-only, moderation and the records, each offered only when the token
 * may call the routes it needs (`GET /admin/whoami` lists them).
 */
import './style.css';
import { api, ApiError, download, saveToken, savedToken, seg } from './api.js';
// The viewer console's DOM helpers, shared rather than copied.
import { byId, el, show } from '../../console/src/dom.js';
import { currentLang, hasKey, setLang, t, translatePage, when, type Key, type Lang } from './i18n.js';

interface Who {
  actor: string;
  role: 'admin' | 'moderator';
  routes: string[];
}
interface Programme {
  scheduleUID: string;
  title: string;
  broadcaster: string;
  startAt: number;
  endAt: number;
  onAir: boolean;
}
interface LiveProgramme {
  scheduleUID: string;
  title: string | null;
  broadcaster: string | null;
  endAt: number | null;
  connections: number;
}
interface RoomItem {
  roomId: string;
  title: string;
  max: number;
  count: number;
  password?: true;
}
interface ChatMessage {
  id: string;
  userUID: string;
  displayName: string;
  msg: string;
  ts: number;
}
interface Overview {
  now: number;
  connections: number;
  rooms: number;
  messagesPerSecond: number;
  aggros: { aggroUID: string; roomId: string; roomTitle: string | null; userUID: string; displayName: string; msg: string; point: number; up: number; down: number; expiresAt: number }[];
}

type Tab = 'schedule' | 'live' | 'moderation' | 'records';
const TABS: { tab: Tab; needs: string }[] = [
  { tab: 'schedule', needs: 'GET /admin/programs' },
  { tab: 'live', needs: 'GET /admin/live' },
  { tab: 'moderation', needs: 'GET /admin/reports' },
  { tab: 'records', needs: 'GET /admin/programs/:scheduleUID/aggros' },
];

let who: Who | null = null;
let tab: Tab = 'live';
/** Timers of the tab shown, stopped when another is. */
let timers: number[] = [];

const can = (route: string) => who?.routes.includes(route) ?? false;
const program = () => byId<HTMLInputElement>('program').value.trim();
const P = () => `/admin/programs/${seg(program())}`;

// ---- messages -----------------------------------------------------------------------------

/** An API refusal in words: the console's sentence for its code, the server's detail, the code. */
function describe(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const key = `err.${err.code}`;
  const words = hasKey(key) ? t(key) : err.message;
  const detail = err.issues.length > 0 ? `: ${err.issues.map((i) => `${(i.path ?? []).join('.') || '-'}: ${i.message}`).join('; ')}` : err.message && words !== err.message ? `: ${err.message}` : '';
  return `${words}${detail} (${err.code})`;
}

function showError(err: unknown): void {
  byId('error-text').textContent = describe(err);
  show(byId('error'), true);
}

function notice(text: string): void {
  byId('notice-text').textContent = text;
  show(byId('notice'), true);
}

/** Runs an action; a refusal is shown instead of thrown. */
async function attempt(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signOut(err);
    showError(err);
  }
}

function button(label: string, testid: string, onClick: () => Promise<void> | void, extra: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', 'data-testid': testid, text: label, ...extra });
  b.addEventListener('click', () => void attempt(async () => onClick()));
  return b;
}

function section(title: string, testid: string, ...children: (Node | null | false)[]): HTMLElement {
  const id = `h-${testid}`;
  return el('section', { class: 'card', 'data-testid': testid, 'aria-labelledby': id }, el('h2', { id, text: title }), ...children);
}

/** `datetime-local` value of an instant, and back (the browser's zone). */
function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
const fromLocalInput = (v: string) => new Date(v).getTime();

// ---- sign-in ------------------------------------------------------------------------------

async function signIn(token: string): Promise<void> {
  who = await api<Who>('GET', '/admin/whoami', undefined, token);
  saveToken(token);
  byId('who').textContent = t('app.signedInAs', { actor: who.actor });
  show(byId('sign-in'), false);
  show(byId('sign-out'), true);
  show(byId('workspace'), true);
  const allowed = TABS.filter((x) => can(x.needs));
  if (!allowed.some((x) => x.tab === tab)) tab = allowed[0]?.tab ?? 'live';
  await loadProgramOptions();
  render();
}

function signOut(reason?: unknown): void {
  saveToken(null);
  who = null;
  stopTimers();
  show(byId('workspace'), false);
  show(byId('sign-out'), false);
  show(byId('sign-in'), true);
  byId('who').textContent = '';
  if (reason) showError(reason);
}

/** Programmes to pick from: the schedule (admin), and those on air or with sessions. */
async function loadProgramOptions(): Promise<void> {
  const ids = new Map<string, string>();
  if (can('GET /admin/live')) for (const p of (await api<{ programs: LiveProgramme[] }>('GET', '/admin/live')).programs) ids.set(p.scheduleUID, p.title ?? '');
  if (can('GET /admin/programs')) for (const p of (await api<{ programs: Programme[] }>('GET', '/admin/programs')).programs) ids.set(p.scheduleUID, p.title);
  byId('program-options').replaceChildren(...[...ids].map(([id, title]) => el('option', { value: id, label: title ? `${title} (${id})` : id })));
  const input = byId<HTMLInputElement>('program');
  if (!input.value && ids.size > 0) input.value = [...ids.keys()][0]!;
}

// ---- tabs ---------------------------------------------------------------------------------

function stopTimers(): void {
  for (const id of timers) clearInterval(id);
  timers = [];
}

function every(ms: number, fn: () => Promise<void>): void {
  let busy = false;
  timers.push(
    window.setInterval(() => {
      // A slow answer is not overtaken by the next poll.
      if (busy) return;
      busy = true;
      fn()
        .catch((err: unknown) => (err instanceof ApiError && err.status === 401 ? signOut(err) : showError(err)))
        .finally(() => (busy = false));
    }, ms),
  );
}

function render(): void {
  stopTimers();
  translatePage();
  const tabs = byId('tabs');
  const allowed = TABS.filter((x) => can(x.needs));
  tabs.replaceChildren(
    ...allowed.map((x) => {
      const b = el('button', { type: 'button', role: 'tab', 'data-testid': `tab-${x.tab}`, 'aria-selected': String(x.tab === tab), tabindex: x.tab === tab ? '0' : '-1', text: t(`tab.${x.tab}` as Key) });
      b.addEventListener('click', () => {
        tab = x.tab;
        render();
        byId(`tab-${x.tab}`).focus();
      });
      // Arrow keys move between tabs, as the ARIA tabs pattern has it.
      b.addEventListener('keydown', (e) => {
        const i = allowed.findIndex((y) => y.tab === x.tab);
        const next = e.key === 'ArrowRight' ? allowed[(i + 1) % allowed.length] : e.key === 'ArrowLeft' ? allowed[(i - 1 + allowed.length) % allowed.length] : undefined;
        if (!next) return;
        e.preventDefault();
        tab = next.tab;
        render();
        byId(`tab-${next.tab}`).focus();
      });
      return b;
    }),
  );
  for (const panel of document.querySelectorAll<HTMLElement>('[role="tabpanel"]')) {
    const on = panel.dataset.tab === tab;
    show(panel, on);
    if (!on) panel.replaceChildren();
  }
  show(byId('program-pick'), tab !== 'schedule');
  const panel = byId(`panel-${tab}`);
  if (tab === 'schedule') void attempt(() => scheduleView(panel));
  else if (tab === 'live') void attempt(() => liveView(panel));
  else if (tab === 'moderation') void attempt(() => moderationView(panel));
  else void attempt(() => recordsView(panel));
}

// ---- schedule -----------------------------------------------------------------------------

async function scheduleView(panel: HTMLElement): Promise<void> {
  const lists = el('div', { class: 'grid3' });
  const refresh = async (force = true) => {
    // The periodic refresh leaves an open times form alone (it would take the typing away).
    if (!force && lists.querySelector('[data-testid="times-form"]')) return;
    const { programs } = await api<{ programs: Programme[] }>('GET', '/admin/programs');
    const now = Date.now();
    const group = (title: string, testid: string, items: Programme[]) =>
      section(title, testid, items.length === 0 ? el('p', { class: 'empty', text: t('common.none') }) : el('ul', { class: 'rows' }, ...items.map(programmeRow)));
    lists.replaceChildren(
      group(t('sched.onAir'), 'sched-on-air', programs.filter((p) => p.onAir)),
      group(t('sched.upcoming'), 'sched-upcoming', programs.filter((p) => p.startAt > now)),
      group(t('sched.ended'), 'sched-ended', programs.filter((p) => !p.onAir && p.startAt <= now).reverse()),
    );
  };

  const programmeRow = (p: Programme): HTMLElement => {
    const li = el(
      'li',
      { 'data-testid': 'programme', 'data-id': p.scheduleUID },
      el('div', {}, el('strong', { 'data-testid': 'programme-title', text: p.title }), ' ', el('span', { class: 'muted', text: `${p.broadcaster} · ${p.scheduleUID}` })),
      el('div', { class: 'muted', 'data-testid': 'programme-times', text: `${when(p.startAt)} – ${when(p.endAt)}` }),
    );
    const actions = el('div', { class: 'actions' });
    const put = (startAt: number, endAt: number) => api('PUT', `/admin/programs/${seg(p.scheduleUID)}`, { title: p.title, broadcaster: p.broadcaster, startAt, endAt });
    if (can('PUT /admin/programs/:scheduleUID')) {
      actions.append(
        button(t('sched.editTimes'), 'edit-times', () => {
          const form = el(
            'form',
            { class: 'inline', 'data-testid': 'times-form' },
            el('label', {}, t('sched.start'), el('input', { type: 'datetime-local', name: 'startAt', required: true, value: toLocalInput(p.startAt), 'data-testid': 'edit-start' })),
            el('label', {}, t('sched.end'), el('input', { type: 'datetime-local', name: 'endAt', required: true, value: toLocalInput(p.endAt), 'data-testid': 'edit-end' })),
            el('button', { type: 'submit', 'data-testid': 'save-times', text: t('common.save') }),
          );
          form.append(button(t('common.cancel'), 'cancel-times', () => form.remove(), { class: 'quiet' }));
          form.addEventListener('submit', (e) => {
            e.preventDefault();
            const f = new FormData(form);
            void attempt(async () => {
              await put(fromLocalInput(String(f.get('startAt'))), fromLocalInput(String(f.get('endAt'))));
              notice(t('sched.saved', { title: p.title }));
              await refresh();
            });
          });
          li.querySelector('[data-testid="times-form"]')?.remove();
          li.append(form);
          (form.querySelector('input') as HTMLInputElement).focus();
        }),
      );
      if (p.onAir) {
        actions.append(
          button(t('sched.endNow'), 'end-now', async () => {
            if (!confirm(t('sched.confirmEnd', { title: p.title }))) return;
            await put(p.startAt, Math.max(Date.now(), p.startAt + 1));
            notice(t('sched.saved', { title: p.title }));
            await refresh();
          }),
        );
      }
    }
    if (can('DELETE /admin/programs/:scheduleUID')) {
      actions.append(
        button(t('common.delete'), 'delete-programme', async () => {
          if (!confirm(t('sched.confirmDelete', { title: p.title }))) return;
          await api('DELETE', `/admin/programs/${seg(p.scheduleUID)}`);
          notice(t('sched.deleted', { title: p.title }));
          await refresh();
        }, { class: 'danger' }),
      );
    }
    li.append(actions);
    return li;
  };

  const hour = 3_600_000;
  const start = Math.ceil(Date.now() / hour) * hour;
  const create = el(
    'form',
    { 'data-testid': 'create-form', class: 'grid-form' },
    el('label', {}, t('sched.id'), el('input', { name: 'scheduleUID', required: true, pattern: '[A-Za-z0-9_\\-]{1,64}', 'data-testid': 'new-id' })),
    el('label', {}, t('sched.title'), el('input', { name: 'title', required: true, maxlength: 100, 'data-testid': 'new-title' })),
    el('label', {}, t('sched.broadcaster'), el('input', { name: 'broadcaster', required: true, maxlength: 100, 'data-testid': 'new-broadcaster' })),
    el('label', {}, t('sched.start'), el('input', { type: 'datetime-local', name: 'startAt', required: true, value: toLocalInput(start), 'data-testid': 'new-start' })),
    el('label', {}, t('sched.end'), el('input', { type: 'datetime-local', name: 'endAt', required: true, value: toLocalInput(start + 2 * hour), 'data-testid': 'new-end' })),
    el('button', { type: 'submit', 'data-testid': 'create-programme', text: t('sched.add') }),
  );
  create.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(create)) as Record<string, string>;
    void attempt(async () => {
      await api('PUT', `/admin/programs/${seg(f.scheduleUID!.trim())}`, { title: f.title!.trim(), broadcaster: f.broadcaster!.trim(), startAt: fromLocalInput(f.startAt!), endAt: fromLocalInput(f.endAt!) });
      notice(t('sched.saved', { title: f.title!.trim() }));
      create.reset();
      await refresh();
      await loadProgramOptions();
    });
  });

  const rowErrors = el('div', { 'data-testid': 'upload-errors' });
  const file = el('input', { type: 'file', accept: '.json,application/json', 'data-testid': 'upload-file' });
  file.addEventListener('change', () =>
    void attempt(async () => {
      rowErrors.replaceChildren();
      const chosen = file.files?.[0];
      if (!chosen) return;
      let rows: unknown;
      try {
        rows = JSON.parse(await chosen.text());
      } catch (err) {
        throw new Error(t('sched.notJson', { reason: err instanceof Error ? err.message : String(err) }));
      } finally {
        file.value = '';
      }
      try {
        const { written } = await api<{ written: number }>('PUT', '/admin/schedule', rows);
        notice(t('sched.uploaded', { n: written }));
        await refresh();
        await loadProgramOptions();
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 'BAD_REQUEST' || err.issues.length === 0) throw err;
        // Per row: what is wrong with it, in the server's words.
        const byRow = new Map<number, string[]>();
        for (const i of err.issues) {
          const row = typeof i.row === 'number' ? i.row : typeof i.path?.[0] === 'number' ? i.path[0] : -1;
          const field = (i.path ?? []).slice(1).join('.');
          byRow.set(row, [...(byRow.get(row) ?? []), field ? `${field}: ${i.message}` : i.message]);
        }
        const list = Array.isArray(rows) ? rows : [];
        rowErrors.replaceChildren(
          el('p', { role: 'alert', class: 'error-text', text: err.message }),
          el('h3', { text: t('sched.rowErrors') }),
          el(
            'ul',
            { class: 'rows' },
            ...[...byRow].map(([row, problems]) => {
              const id = (list[row] as { scheduleUID?: unknown } | undefined)?.scheduleUID;
              return el('li', { 'data-testid': 'upload-error', 'data-row': row }, el('strong', { text: `${t('sched.row', { n: row + 1 })}${typeof id === 'string' ? ` (${id})` : ''}` }), ' ', problems.join('; '));
            }),
          ),
        );
      }
    }),
  );

  panel.replaceChildren(
    lists,
    el(
      'div',
      { class: 'grid2' },
      can('PUT /admin/programs/:scheduleUID') && section(t('sched.create'), 'sched-create', create),
      can('PUT /admin/schedule') && section(t('sched.upload'), 'sched-upload', el('p', { class: 'muted', text: t('sched.uploadHelp') }), el('label', {}, t('sched.uploadFile'), file), rowErrors),
    ),
  );
  await refresh();
  every(5000, () => refresh(false));
}

// ---- live ---------------------------------------------------------------------------------

const MUTES: [number, string][] = [
  [60, '1 min'],
  [600, '10 min'],
  [3600, '1 h'],
  [86_400, '1 day'],
];

async function liveView(panel: HTMLElement): Promise<void> {
  const programs = el('ul', { class: 'chips', 'data-testid': 'live-programs' });
  const figures = el('dl', { class: 'figures', 'data-testid': 'figures' });
  const aggros = el('ul', { class: 'rows', 'data-testid': 'live-aggros' });
  const rooms = el('ul', { class: 'rows', 'data-testid': 'rooms' });
  const more = el('button', { type: 'button', 'data-testid': 'rooms-more', text: t('common.more'), hidden: true });
  const search = el('form', { class: 'inline', role: 'search', 'data-testid': 'rooms-search' }, el('label', {}, el('span', { class: 'sr-only', text: t('live.searchRooms') }), el('input', { type: 'search', name: 'q', maxlength: 40, placeholder: t('live.searchRooms'), 'data-testid': 'rooms-q' })), el('button', { type: 'submit', 'data-testid': 'rooms-search-submit', text: t('common.search') }));
  const watch = el('div', { 'data-testid': 'watch' });
  let shown: RoomItem[] = [];
  let next: string | null = null;
  let q = '';
  let watching: { roomId: string; title: string } | null = null;
  let serverOffset = 0;

  const overviewTitle = el('h2', { id: 'h-overview', text: program() || t('common.pickProgram') });
  const refreshPrograms = async () => {
    const { programs: list } = await api<{ programs: LiveProgramme[] }>('GET', '/admin/live');
    const mine = list.find((p) => p.scheduleUID === program());
    overviewTitle.textContent = mine?.title ? `${mine.title} · ${mine.broadcaster ?? ''} (${mine.scheduleUID})` : program() || t('common.pickProgram');
    programs.replaceChildren(
      ...(list.length === 0
        ? [el('li', { class: 'empty', text: t('common.none') })]
        : list.map((p) =>
            el('li', {}, button(`${p.title ?? p.scheduleUID} · ${p.connections}`, 'live-program', () => pick(p.scheduleUID), { 'aria-pressed': String(p.scheduleUID === program()), 'data-id': p.scheduleUID })),
          )),
    );
  };
  const pick = async (id: string) => {
    byId<HTMLInputElement>('program').value = id;
    watching = null;
    watch.replaceChildren();
    await Promise.all([refreshPrograms(), refreshOverview(), loadRooms(true)]);
  };

  const refreshOverview = async () => {
    if (!program()) return void figures.replaceChildren(el('p', { class: 'empty', text: t('common.pickProgram') }));
    const o = await api<Overview>('GET', `${P()}/overview`);
    serverOffset = o.now - Date.now();
    const fig = (label: string, value: string, testid: string) => [el('dt', { text: label }), el('dd', { 'data-testid': testid, text: value })];
    figures.replaceChildren(...fig(t('live.connections'), String(o.connections), 'fig-connections'), ...fig(t('live.rooms'), String(o.rooms), 'fig-rooms'), ...fig(t('live.mps'), String(o.messagesPerSecond), 'fig-mps'));
    aggros.replaceChildren(
      ...(o.aggros.length === 0
        ? [el('li', { class: 'empty', text: t('common.none') })]
        : o.aggros.map((a) =>
            el(
              'li',
              { 'data-testid': 'live-aggro', 'data-expires': a.expiresAt },
              el('strong', { 'data-testid': 'aggro-point', text: t('live.points', { n: a.point }) }),
              ' ',
              el('span', { 'data-testid': 'aggro-msg', text: a.msg }),
              el('div', { class: 'muted' }, `${a.displayName} · ${a.roomTitle ?? a.roomId} · ▲${a.up} ▼${a.down} · `, el('span', { 'data-testid': 'aggro-left', text: left(a.expiresAt) })),
              can('DELETE /admin/programs/:scheduleUID/aggros/:aggroUID') &&
                button(t('live.removeAggro'), 'aggro-remove', async () => {
                  await api('DELETE', `${P()}/aggros/${seg(a.aggroUID)}`);
                  await refreshOverview();
                }, { class: 'danger small' }),
            ),
          )),
    );
  };
  const left = (expiresAt: number) => t('live.left', { n: Math.max(0, Math.ceil((expiresAt - (Date.now() + serverOffset)) / 1000)) });

  const roomRow = (r: RoomItem) =>
    el(
      'li',
      { 'data-testid': 'room', 'data-id': r.roomId },
      el('strong', { 'data-testid': 'room-title', text: r.title }),
      ' ',
      el('span', { class: 'muted', 'data-testid': 'room-count', text: t('live.count', { n: r.count, max: r.max }) }),
      r.password && el('span', { class: 'tag', text: t('live.locked') }),
      ' ',
      button(t('live.watch'), 'room-watch', () => startWatching(r), { class: 'small gap', 'aria-label': `${t('live.watch')}: ${r.title}` }),
    );
  const loadRooms = async (fresh: boolean) => {
    if (!program()) return void rooms.replaceChildren();
    const query = new URLSearchParams({ limit: '20', ...(q ? { q } : {}), ...(!fresh && next ? { cursor: next } : {}) });
    const page = await api<{ rooms: RoomItem[]; next: string | null }>('GET', `${P()}/rooms?${query}`);
    shown = fresh ? page.rooms : [...shown, ...page.rooms];
    next = page.next;
    rooms.replaceChildren(...(shown.length === 0 ? [el('li', { class: 'empty', text: t('common.none') })] : shown.map(roomRow)));
    show(more, next !== null);
  };
  // Counts of the rooms shown, while they are shown.
  const refreshCounts = async () => {
    if (!program() || shown.length === 0) return;
    const { counts } = await api<{ counts: Record<string, number | null> }>('GET', `${P()}/room-counts?ids=${shown.map((r) => r.roomId).join(',')}`);
    shown = shown.filter((r) => counts[r.roomId] !== null).map((r) => ({ ...r, count: counts[r.roomId] ?? r.count }));
    for (const li of rooms.querySelectorAll<HTMLElement>('[data-testid="room"]')) {
      const r = shown.find((x) => x.roomId === li.dataset.id);
      if (!r) li.remove();
      else li.querySelector('[data-testid="room-count"]')!.textContent = t('live.count', { n: r.count, max: r.max });
    }
  };
  more.addEventListener('click', () => void attempt(() => loadRooms(false)));
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    q = (new FormData(search).get('q') as string).trim();
    void attempt(() => loadRooms(true));
  });

  // ---- a watched room
  const messages = new Map<string, ChatMessage & { removed?: boolean }>();
  const list = el('ol', { class: 'chat', 'data-testid': 'watch-messages', 'aria-live': 'polite' });
  const roomInfo = el('p', { class: 'muted', 'data-testid': 'watch-info' });
  const startWatching = async (r: RoomItem) => {
    watching = { roomId: r.roomId, title: r.title };
    messages.clear();
    list.replaceChildren();
    const slow = el('form', { class: 'inline', 'data-testid': 'slow-form' }, el('label', {}, t('mod.slowMode'), slowSelect('watch-slow-seconds')), el('label', {}, el('input', { type: 'radio', name: 'scope', value: 'room', checked: true, 'data-testid': 'slow-room' }), t('mod.slowRoom')), el('label', {}, el('input', { type: 'radio', name: 'scope', value: 'program', 'data-testid': 'slow-program' }), t('mod.slowProgram')), el('button', { type: 'submit', 'data-testid': 'slow-set', text: t('mod.slowSet') }));
    slow.addEventListener('submit', (e) => {
      e.preventDefault();
      const f = new FormData(slow);
      void attempt(async () => {
        const seconds = Number(f.get('seconds'));
        await api('PUT', `${P()}/slow-mode`, { seconds, ...(f.get('scope') === 'room' ? { roomId: r.roomId } : {}) });
        notice(t('mod.slowDone', { what: seconds === 0 ? t('mod.slowOff') : t('common.seconds', { n: seconds }) }));
      });
    });
    watch.replaceChildren(
      section(
        t('live.watching', { title: r.title }),
        'watch-panel',
        el('p', { class: 'muted', text: t('live.readOnly') }),
        roomInfo,
        list,
        can('PUT /admin/programs/:scheduleUID/slow-mode') && slow,
        button(t('live.stopWatching'), 'watch-stop', () => {
          watching = null;
          watch.replaceChildren();
        }, { class: 'quiet' }),
      ),
    );
    await refreshWatch();
    byId('watch-panel').scrollIntoView({ block: 'nearest' });
  };
  const messageRow = (m: ChatMessage & { removed?: boolean }) => {
    const li = el('li', { 'data-testid': 'watch-message', 'data-id': m.id, class: m.removed ? 'removed' : '' }, el('span', { class: 'muted', text: new Date(m.ts).toLocaleTimeString() }), ' ', el('strong', { 'data-testid': 'watch-author', text: m.displayName }), ' ', el('span', { 'data-testid': 'watch-text', text: m.msg }));
    if (m.removed) {
      li.append(' ', el('span', { class: 'tag', 'data-testid': 'watch-removed', text: t('live.removed') }));
      return li;
    }
    const actions = el('span', { class: 'actions' });
    if (can('DELETE /admin/programs/:scheduleUID/messages/:id')) {
      actions.append(
        button(t('mod.remove'), 'msg-remove', async () => {
          await api('DELETE', `${P()}/messages/${seg(m.id)}`);
          notice(t('mod.removedMsg'));
          await refreshWatch();
        }, { class: 'small danger', 'aria-label': `${t('mod.remove')}: ${m.msg}` }),
      );
    }
    if (can('PUT /admin/programs/:scheduleUID/mutes/:userUID')) {
      const select = el('select', { 'data-testid': 'msg-mute-seconds', 'aria-label': t('mod.muteFor') }, ...MUTES.map(([s, label]) => el('option', { value: s, text: label })));
      select.value = '600';
      actions.append(
        select,
        button(t('mod.mute'), 'msg-mute', async () => {
          const r = await api<{ until: number }>('PUT', `${P()}/mutes/${seg(m.userUID)}`, { seconds: Number(select.value) });
          notice(t('mod.muted', { name: m.displayName, until: when(r.until) }));
        }, { class: 'small', 'aria-label': `${t('mod.mute')}: ${m.displayName}` }),
      );
    }
    if (can('PUT /admin/bans/:userUID')) {
      actions.append(
        button(t('mod.ban'), 'msg-ban', async () => {
          if (!confirm(t('mod.confirmBan', { name: m.displayName }))) return;
          await api('PUT', `/admin/bans/${seg(m.userUID)}`, { scheduleUID: program(), reason: `message ${m.id}` });
          notice(t('mod.banned', { name: m.displayName }));
        }, { class: 'small danger', 'aria-label': `${t('mod.ban')}: ${m.displayName}` }),
      );
    }
    li.append(' ', actions);
    return li;
  };
  const refreshWatch = async () => {
    if (!watching) return;
    const r = await api<{ room: RoomItem & { members: { displayName: string }[] }; messages: ChatMessage[] }>('GET', `${P()}/rooms/${seg(watching.roomId)}/messages?limit=100`);
    roomInfo.textContent = `${t('live.members', { n: r.room.count, max: r.room.max })}: ${r.room.members.map((m) => m.displayName).join(', ')}`;
    // The history is a window of the newest messages: one shown before that is gone from
    // inside the window was removed.
    const ids = new Set(r.messages.map((m) => m.id));
    const oldest = r.messages[0]?.ts ?? Infinity;
    let changed = false;
    for (const m of messages.values()) {
      if (!m.removed && !ids.has(m.id) && m.ts >= oldest) {
        m.removed = true;
        changed = true;
      }
    }
    if (r.messages.length === 0 && messages.size > 0) {
      for (const m of messages.values()) if (!m.removed) (m.removed = true), (changed = true);
    }
    for (const m of r.messages) {
      if (!messages.has(m.id)) {
        messages.set(m.id, m);
        changed = true;
      }
    }
    if (!changed && list.childElementCount > 0) return;
    const rows = [...messages.values()].sort((a, b) => a.ts - b.ts);
    list.replaceChildren(...(rows.length === 0 ? [el('li', { class: 'empty', text: t('live.noMessages') })] : rows.map(messageRow)));
    list.scrollTop = list.scrollHeight;
  };

  const countdown = () => {
    for (const li of aggros.querySelectorAll<HTMLElement>('[data-testid="live-aggro"]')) li.querySelector('[data-testid="aggro-left"]')!.textContent = left(Number(li.dataset.expires));
  };

  panel.replaceChildren(
    section(t('live.programs'), 'live-programs-card', programs),
    el('div', { class: 'grid2' }, el('section', { class: 'card', 'data-testid': 'overview', 'aria-labelledby': 'h-overview' }, overviewTitle, figures, el('h3', { text: t('live.aggros') }), aggros), section(t('live.rooms'), 'rooms-card', search, rooms, more)),
    watch,
  );
  byId<HTMLInputElement>('program').onchange = () => void attempt(() => pick(program()));
  await Promise.all([refreshPrograms(), refreshOverview(), loadRooms(true)]);
  every(5000, refreshPrograms);
  every(2000, refreshOverview);
  every(2000, refreshCounts);
  every(1000, refreshWatch);
  every(1000, async () => countdown());
}

function slowSelect(testid: string): HTMLSelectElement {
  return el('select', { name: 'seconds', 'data-testid': testid }, ...[0, 5, 10, 30, 60, 300].map((s) => el('option', { value: s, text: s === 0 ? t('mod.slowOff') : t('common.seconds', { n: s }) })));
}

// ---- moderation ---------------------------------------------------------------------------

interface Report {
  id: string;
  scheduleUID: string;
  kind: string;
  targetUserUID: string | null;
  text: string | null;
  reporterUID: string;
  reason: string;
  createdAt: number;
  status: 'open' | 'resolved';
  resolution: string | null;
  resolvedBy: string | null;
}
interface FilterEntry {
  text: string;
  action: 'block' | 'mask';
  scheduleUID?: string;
}

async function moderationView(panel: HTMLElement): Promise<void> {
  // Reports
  let status: 'open' | 'resolved' = 'open';
  let reportsNext: string | null = null;
  const reports = el('ul', { class: 'rows', 'data-testid': 'reports' });
  const reportsMore = el('button', { type: 'button', 'data-testid': 'reports-more', text: t('common.more'), hidden: true });
  const statusSwitch = el('div', { class: 'segmented', role: 'group' });
  const loadReports = async (fresh: boolean) => {
    const query = new URLSearchParams({ status, limit: '20', ...(!fresh && reportsNext ? { cursor: reportsNext } : {}) });
    const page = await api<{ items: Report[]; next: string | null }>('GET', `/admin/reports?${query}`);
    reportsNext = page.next;
    const rows = page.items.map(reportRow);
    if (fresh) reports.replaceChildren(...(rows.length === 0 ? [el('li', { class: 'empty', text: t('common.none') })] : rows));
    else reports.append(...rows);
    show(reportsMore, reportsNext !== null);
    statusSwitch.replaceChildren(
      ...(['open', 'resolved'] as const).map((s) =>
        button(t(s === 'open' ? 'mod.open' : 'mod.resolved'), `reports-${s}`, () => {
          status = s;
          return loadReports(true);
        }, { 'aria-pressed': String(s === status) }),
      ),
    );
  };
  const reportRow = (r: Report) => {
    const li = el(
      'li',
      { 'data-testid': 'report', 'data-id': r.id },
      el('div', {}, el('span', { class: 'tag', text: r.kind }), ' ', el('strong', { 'data-testid': 'report-text', text: r.text ?? r.targetUserUID ?? '' })),
      el('div', { class: 'muted', text: `${r.scheduleUID} · ${when(r.createdAt)} · ${t('mod.reportedBy', { who: r.reporterUID, reason: r.reason })}` }),
    );
    if (r.status === 'resolved') li.append(el('div', { class: 'muted', 'data-testid': 'report-resolution', text: t('mod.resolvedAs', { resolution: r.resolution ?? '', who: r.resolvedBy ?? '' }) }));
    else {
      const resolve = (action: string, extra: Record<string, unknown> = {}) => async () => {
        await api('POST', `/admin/reports/${seg(r.id)}/resolve`, { action, ...extra });
        await Promise.all([loadReports(true), loadInForce()]);
      };
      li.append(
        el(
          'div',
          { class: 'actions' },
          button(t('mod.dismiss'), 'report-dismiss', resolve('dismiss'), { class: 'small quiet' }),
          r.kind !== 'user' && button(t('mod.remove'), 'report-remove', resolve('remove'), { class: 'small danger' }),
          r.targetUserUID && button(`${t('mod.mute')} 10 min`, 'report-mute', resolve('mute', { seconds: 600 }), { class: 'small' }),
          r.targetUserUID && button(t('mod.ban'), 'report-ban', resolve('ban'), { class: 'small danger' }),
        ),
      );
    }
    return li;
  };
  reportsMore.addEventListener('click', () => void attempt(() => loadReports(false)));

  // Word filter
  let entries: FilterEntry[] = [];
  const filterRows = el('tbody', { 'data-testid': 'filter-rows' });
  const unsaved = el('span', { class: 'tag warn', 'data-testid': 'filter-unsaved', text: t('mod.filterUnsaved'), hidden: true });
  const drawFilter = () =>
    filterRows.replaceChildren(
      ...entries.map((e, i) => {
        const action = el('select', { 'aria-label': `${t('mod.filterAction')}: ${e.text}`, 'data-testid': 'filter-action' }, el('option', { value: 'block', text: 'block' }), el('option', { value: 'mask', text: 'mask' }));
        action.value = e.action;
        action.addEventListener('change', () => {
          entries[i] = { ...e, action: action.value as FilterEntry['action'] };
          show(unsaved, true);
        });
        return el(
          'tr',
          { 'data-testid': 'filter-entry' },
          el('td', { 'data-testid': 'filter-text', text: e.text }),
          el('td', {}, action),
          el('td', { class: 'muted', text: e.scheduleUID ?? t('common.everywhere') }),
          el(
            'td',
            {},
            button(t('common.delete'), 'filter-delete', () => {
              entries.splice(i, 1);
              show(unsaved, true);
              drawFilter();
            }, { class: 'small quiet', 'aria-label': `${t('common.delete')}: ${e.text}` }),
          ),
        );
      }),
    );
  const loadFilter = async () => {
    entries = (await api<{ entries: FilterEntry[] }>('GET', '/admin/filters')).entries;
    show(unsaved, false);
    drawFilter();
  };
  const addEntries = (words: FilterEntry[]) => {
    const key = (e: FilterEntry) => `${e.text}\u0000${e.scheduleUID ?? ''}`;
    const have = new Set(entries.map(key));
    const fresh = words.filter((w) => !have.has(key(w)) && (have.add(key(w)), true));
    entries.push(...fresh);
    show(unsaved, true);
    drawFilter();
    return fresh.length;
  };
  const addForm = el(
    'form',
    { class: 'inline', 'data-testid': 'filter-add-form' },
    el('label', {}, t('mod.filterWord'), el('input', { name: 'text', required: true, maxlength: 100, 'data-testid': 'filter-new-text' })),
    el('label', {}, t('mod.filterAction'), el('select', { name: 'action', 'data-testid': 'filter-new-action' }, el('option', { value: 'block', text: 'block' }), el('option', { value: 'mask', text: 'mask' }))),
    el('label', {}, t('mod.filterScope'), el('input', { name: 'scheduleUID', maxlength: 64, 'data-testid': 'filter-new-scope' })),
    el('button', { type: 'submit', 'data-testid': 'filter-add', text: t('mod.filterAdd') }),
  );
  addForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(addForm)) as Record<string, string>;
    const scope = f.scheduleUID?.trim();
    addEntries([{ text: f.text!.trim(), action: f.action as FilterEntry['action'], ...(scope ? { scheduleUID: scope } : {}) }]);
    addForm.reset();
  });
  const importFile = el('input', { type: 'file', accept: '.txt,text/plain', 'data-testid': 'filter-import' });
  importFile.addEventListener('change', () =>
    void attempt(async () => {
      const chosen = importFile.files?.[0];
      if (!chosen) return;
      const words = (await chosen.text())
        .split(/\r?\n/)
        .map((w) => w.replace(/^\uFEFF/, '').trim())
        .filter((w) => w.length > 0 && !w.startsWith('#'));
      importFile.value = '';
      notice(t('mod.filterImported', { n: addEntries(words.map((text) => ({ text, action: 'block' }))) }));
    }),
  );
  const saveFilter = button(t('common.save'), 'filter-save', async () => {
    const r = await api<{ version: number; entries: FilterEntry[] }>('PUT', '/admin/filters', { entries });
    notice(t('mod.filterSaved', { v: r.version, n: r.entries.length }));
    await loadFilter();
  });

  // Mutes, slow modes and bans in force
  const mutes = el('ul', { class: 'rows', 'data-testid': 'mutes' });
  const slowModes = el('ul', { class: 'rows', 'data-testid': 'slow-modes' });
  const bans = el('ul', { class: 'rows', 'data-testid': 'bans' });
  const loadInForce = async () => {
    if (program()) {
      const [m, s] = await Promise.all([
        api<{ mutes: { userUID: string; until: number; reason?: string }[] }>('GET', `${P()}/mutes`),
        api<{ slowModes: { roomId: string | null; seconds: number }[] }>('GET', `${P()}/slow-mode`),
      ]);
      mutes.replaceChildren(
        ...(m.mutes.length === 0
          ? [el('li', { class: 'empty', text: t('common.none') })]
          : m.mutes.map((x) =>
              el('li', { 'data-testid': 'mute', 'data-user': x.userUID }, el('strong', { text: x.userUID }), ` ${t('mod.until', { t: when(x.until) })}${x.reason ? ` · ${x.reason}` : ''} `, button(t('mod.lift'), 'mute-lift', async () => {
                await api('DELETE', `${P()}/mutes/${seg(x.userUID)}`);
                await loadInForce();
              }, { class: 'small', 'aria-label': `${t('mod.lift')}: ${x.userUID}` })),
            )),
      );
      slowModes.replaceChildren(
        ...(s.slowModes.length === 0
          ? [el('li', { class: 'empty', text: t('common.none') })]
          : s.slowModes.map((x) =>
              el('li', { 'data-testid': 'slow-mode' }, `${x.roomId ?? t('mod.slowProgram')}: ${t('common.seconds', { n: x.seconds })} `, button(t('mod.slowEnd'), 'slow-end', async () => {
                await api('PUT', `${P()}/slow-mode`, { seconds: 0, ...(x.roomId ? { roomId: x.roomId } : {}) });
                await loadInForce();
              }, { class: 'small' })),
            )),
      );
    } else {
      mutes.replaceChildren(el('li', { class: 'empty', text: t('common.pickProgram') }));
      slowModes.replaceChildren(el('li', { class: 'empty', text: t('common.pickProgram') }));
    }
    if (can('GET /admin/bans')) {
      const b = await api<{ bans: { userUID: string; scheduleUID?: string; reason?: string; until?: number }[] }>('GET', '/admin/bans');
      bans.replaceChildren(
        ...(b.bans.length === 0
          ? [el('li', { class: 'empty', text: t('common.none') })]
          : b.bans.map((x) =>
              el('li', { 'data-testid': 'ban', 'data-user': x.userUID }, el('strong', { text: x.userUID }), ` · ${x.scheduleUID ?? t('common.everywhere')} · ${x.until ? t('mod.until', { t: when(x.until) }) : t('mod.forever')}${x.reason ? ` · ${x.reason}` : ''} `, can('DELETE /admin/bans/:userUID') && button(t('mod.lift'), 'ban-lift', async () => {
                await api('DELETE', `/admin/bans/${seg(x.userUID)}${x.scheduleUID ? `?scheduleUID=${seg(x.scheduleUID)}` : ''}`);
                await loadInForce();
              }, { class: 'small', 'aria-label': `${t('mod.lift')}: ${x.userUID}` })),
            )),
      );
    }
  };
  const slowForm = el('form', { class: 'inline', 'data-testid': 'program-slow-form' }, el('label', {}, t('mod.slowProgram'), slowSelect('program-slow-seconds')), el('button', { type: 'submit', 'data-testid': 'program-slow-set', text: t('mod.slowSet') }));
  slowForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const seconds = Number(new FormData(slowForm).get('seconds'));
    void attempt(async () => {
      await api('PUT', `${P()}/slow-mode`, { seconds });
      notice(t('mod.slowDone', { what: seconds === 0 ? t('mod.slowOff') : t('common.seconds', { n: seconds }) }));
      await loadInForce();
    });
  });

  // Audit
  let auditNext: string | null = null;
  const audit = el('ul', { class: 'rows', 'data-testid': 'audit' });
  const auditMore = el('button', { type: 'button', 'data-testid': 'audit-more', text: t('common.more'), hidden: true });
  const loadAudit = async (fresh: boolean) => {
    const query = new URLSearchParams({ limit: '20', ...(!fresh && auditNext ? { cursor: auditNext } : {}) });
    const page = await api<{ items: { id: string; at: number; actor: string; action: string; scheduleUID: string | null; target: string | null; reason: string | null }[]; next: string | null }>('GET', `/admin/audit?${query}`);
    auditNext = page.next;
    const rows = page.items.map((a) => el('li', { 'data-testid': 'audit-entry' }, el('span', { class: 'muted', text: when(a.at) }), ' ', el('strong', { 'data-testid': 'audit-action', text: a.action }), ` ${a.actor}${a.scheduleUID ? ` · ${a.scheduleUID}` : ''}${a.target ? ` · ${a.target}` : ''}${a.reason ? ` · ${a.reason}` : ''}`));
    if (fresh) audit.replaceChildren(...(rows.length === 0 ? [el('li', { class: 'empty', text: t('common.none') })] : rows));
    else audit.append(...rows);
    show(auditMore, auditNext !== null);
  };
  auditMore.addEventListener('click', () => void attempt(() => loadAudit(false)));

  panel.replaceChildren(
    el(
      'div',
      { class: 'grid2' },
      section(t('mod.reports'), 'reports-card', statusSwitch, reports, reportsMore),
      el(
        'div',
        {},
        section(t('mod.mutes'), 'mutes-card', mutes),
        section(t('mod.slowList'), 'slow-card', slowModes, slowForm),
        can('GET /admin/bans') && section(t('mod.bans'), 'bans-card', bans),
      ),
    ),
    section(
      t('mod.filter'),
      'filter-card',
      el('p', { class: 'muted', text: t('mod.filterHelp') }),
      el('table', { class: 'table' }, el('thead', {}, el('tr', {}, el('th', { text: t('mod.filterWord') }), el('th', { text: t('mod.filterAction') }), el('th', { text: t('pick.label') }), el('th', {}))), filterRows),
      addForm,
      el('label', {}, t('mod.filterImport'), importFile),
      el('div', { class: 'actions' }, saveFilter, unsaved),
    ),
    section(t('mod.audit'), 'audit-card', audit, auditMore),
  );
  byId<HTMLInputElement>('program').onchange = () => void attempt(loadInForce);
  await Promise.all([loadReports(true), loadFilter(), loadInForce(), loadAudit(true)]);
  every(5000, async () => {
    await Promise.all([loadInForce(), status === 'open' && !reportsNext ? loadReports(true) : Promise.resolve()]);
  });
}

// ---- records ------------------------------------------------------------------------------

interface AggroRecord {
  aggroUID: string;
  roomId: string;
  userUID: string;
  displayName: string;
  msg: string;
  point: number;
  up: number;
  down: number;
  endedAt: number;
  endReason: string;
}

async function recordsView(panel: HTMLElement): Promise<void> {
  let q = '';
  let next: string | null = null;
  let rank = 0;
  const rows = el('tbody', { 'data-testid': 'records' });
  const more = el('button', { type: 'button', 'data-testid': 'records-more', text: t('common.more'), hidden: true });
  const search = el('form', { class: 'inline', role: 'search', 'data-testid': 'records-search' }, el('label', {}, el('span', { class: 'sr-only', text: t('rec.search') }), el('input', { type: 'search', name: 'q', maxlength: 100, placeholder: t('rec.search'), 'data-testid': 'records-q' })), el('button', { type: 'submit', 'data-testid': 'records-search-submit', text: t('common.search') }));
  const load = async (fresh: boolean) => {
    if (!program()) return void rows.replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'empty', text: t('common.pickProgram') })));
    const query = new URLSearchParams({ limit: '20', ...(q ? { q } : {}), ...(!fresh && next ? { cursor: next } : {}) });
    const page = await api<{ items: AggroRecord[]; next: string | null }>('GET', `${P()}/aggros?${query}`);
    if (fresh) {
      rank = 0;
      rows.replaceChildren();
    }
    next = page.next;
    rows.append(
      ...page.items.map((a) =>
        el(
          'tr',
          { 'data-testid': 'record' },
          el('td', { text: String(++rank) }),
          el('td', { 'data-testid': 'record-point', text: String(a.point) }),
          el('td', { text: `${a.up} / ${a.down}` }),
          el('td', { 'data-testid': 'record-msg', text: a.msg }),
          el('td', { text: a.displayName }),
          el('td', { text: when(a.endedAt) }),
          el('td', { text: a.endReason }),
        ),
      ),
    );
    if (rank === 0) rows.append(el('tr', {}, el('td', { colspan: 7, class: 'empty', text: t('common.none') })));
    show(more, next !== null);
  };
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    q = (new FormData(search).get('q') as string).trim();
    void attempt(() => load(true));
  });
  more.addEventListener('click', () => void attempt(() => load(false)));
  const csv = button(t('rec.csv'), 'records-csv', async () => {
    const { blob, filename } = await download(`${P()}/aggros.csv${q ? `?q=${seg(q)}` : ''}`);
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  panel.replaceChildren(
    section(
      t('rec.title'),
      'records-card',
      el('div', { class: 'actions' }, search, can('GET /admin/programs/:scheduleUID/aggros.csv') && csv),
      el(
        'div',
        { class: 'scroll' },
        el('table', { class: 'table' }, el('thead', {}, el('tr', {}, ...(['rec.rank', 'rec.points', 'rec.votes', 'rec.msg', 'rec.author', 'rec.ended', 'rec.reason'] as const).map((k) => el('th', { scope: 'col', text: t(k) })))), rows),
      ),
      more,
    ),
  );
  byId<HTMLInputElement>('program').onchange = () => void attempt(() => load(true));
  await load(true);
}

// ---- start --------------------------------------------------------------------------------

function start(): void {
  const language = byId<HTMLSelectElement>('language');
  setLang(currentLang());
  language.value = currentLang();
  language.addEventListener('change', () => {
    setLang(language.value as Lang);
    if (who) {
      byId('who').textContent = t('app.signedInAs', { actor: who.actor });
      render();
    } else translatePage();
  });
  translatePage();
  byId('error-close').addEventListener('click', () => show(byId('error'), false));
  byId('notice-close').addEventListener('click', () => show(byId('notice'), false));
  byId('sign-out').addEventListener('click', () => signOut());
  const form = byId<HTMLFormElement>('sign-in-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = byId<HTMLInputElement>('token').value.trim();
    show(byId('error'), false);
    void signIn(token).then(
      () => (byId<HTMLInputElement>('token').value = ''),
      (err: unknown) => showError(err),
    );
  });
  const kept = savedToken();
  if (kept) void signIn(kept).catch((err: unknown) => signOut(err));
}

start();
