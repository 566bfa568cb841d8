/** The web console: sign in to a programme, then follow and use it through the SDK. */
import './style.css';
import { connect, watchPrograms, type ChatMessage, type OnAirClient, type OnAirState, type ProgramsState, type RoomSummary, type UserInfo } from '@onair/client';
import { cleanMessage } from '../../src/protocol/text.js';
import { byId, fields, show } from './dom.js';
import { describeError, describeSystem } from './readable.js';
import { renderChat, renderMembers, renderPrograms, renderRooms, secondsLeft } from './views.js';

const ui = {
  status: byId('status'),
  signOut: byId<HTMLButtonElement>('sign-out'),
  error: byId('error'),
  errorText: byId('error-text'),
  notice: byId('notice'),
  noticeText: byId('notice-text'),
  signIn: byId('sign-in'),
  signInForm: byId<HTMLFormElement>('sign-in-form'),
  connectButton: byId<HTMLButtonElement>('connect'),
  programList: byId('program-list'),
  noPrograms: byId('no-programs'),
  otherProgram: byId<HTMLDetailsElement>('other-program'),
  lobby: byId('lobby'),
  roomList: byId('room-list'),
  roomTotal: byId('room-total'),
  noRooms: byId('no-rooms'),
  createForm: byId<HTMLFormElement>('create-room'),
  quickJoin: byId<HTMLButtonElement>('quick-join'),
  searchForm: byId<HTMLFormElement>('search'),
  searchResults: byId('search-results'),
  searchNone: byId('search-none'),
  searchMore: byId<HTMLButtonElement>('search-more'),
  room: byId('room'),
  roomTitle: byId('room-title'),
  leave: byId<HTMLButtonElement>('leave'),
  members: byId('members'),
  memberTotal: byId('member-total'),
  chatLog: byId('chat-log'),
  chatForm: byId<HTMLFormElement>('chat-form'),
  aggro: byId('aggro'),
  aggroAuthor: byId('aggro-author'),
  aggroMsg: byId('aggro-msg'),
  aggroPoint: byId('aggro-point'),
  pointsLabel: byId('points-label'),
  aggroProgress: byId<HTMLProgressElement>('aggro-progress'),
  aggroCountdown: byId('aggro-countdown'),
  voteUp: byId<HTMLButtonElement>('vote-up'),
  voteDown: byId<HTMLButtonElement>('vote-down'),
  noAggro: byId('no-aggro'),
  aggroForm: byId<HTMLFormElement>('aggro-form'),
  passwordDialog: byId<HTMLDialogElement>('password-dialog'),
  passwordForm: byId<HTMLFormElement>('password-form'),
  passwordRoom: byId('password-room'),
  passwordError: byId('password-error'),
  ownerBadge: byId('owner-badge'),
  slowMode: byId('slow-mode'),
  editRoom: byId<HTMLButtonElement>('edit-room'),
  editDialog: byId<HTMLDialogElement>('edit-room-dialog'),
  editForm: byId<HTMLFormElement>('edit-room-form'),
  editError: byId('edit-error'),
  reportDialog: byId<HTMLDialogElement>('report-dialog'),
  reportForm: byId<HTMLFormElement>('report-form'),
  reportQuote: byId('report-quote'),
  reportError: byId('report-error'),
};

let client: OnAirClient | null = null;
/** How this session voted on each aggro, to mark the choice and refuse a second vote up front. */
const votes = new Map<string, 'up' | 'down'>();
let shownSystem: OnAirState['lastSystem'] = null;
let lastAggro: { aggroUID: string; msg: string; point: number; roomId: string } | null = null;
let lockedRoom: RoomSummary | null = null;
/** Slow mode as the last `SLOW_MODE` notices said (spec 9): the room's own, else the programme's. */
const slow = { room: new Map<string, number>(), programme: 0 };
let reporting: ChatMessage | null = null;

function banner(box: HTMLElement, text: HTMLElement, message: string | null): void {
  text.textContent = message ?? '';
  show(box, message !== null);
}
const showError = (err: unknown) => banner(ui.error, ui.errorText, describeError(err));
const clearError = () => banner(ui.error, ui.errorText, null);
for (const box of [ui.error, ui.notice]) box.querySelector('.close')!.addEventListener('click', () => show(box, false));

/** Runs a user's action: one error banner for whatever it throws, the button kept from double clicks. */
async function act(button: HTMLButtonElement | null, action: () => Promise<unknown>): Promise<boolean> {
  clearError();
  if (button) button.disabled = true;
  try {
    await action();
    return true;
  } catch (err) {
    showError(err);
    return false;
  } finally {
    if (button) button.disabled = false;
  }
}

// --- sign-in ---------------------------------------------------------------------------------

const REMEMBERED = 'onair-console';
const form = ui.signInForm.elements as unknown as Record<'otherProgram' | 'userUID' | 'displayName' | 'token', HTMLInputElement>;
const saved = JSON.parse(localStorage.getItem(REMEMBERED) ?? '{}') as Record<string, string>;
form.userUID.value = saved.userUID ?? `viewer-${crypto.randomUUID().slice(0, 8)}`;
form.displayName.value = saved.displayName ?? '';

function modeChanged(): void {
  const mode = fields(ui.signInForm).mode;
  for (const part of ui.signInForm.querySelectorAll<HTMLElement>('[data-mode]')) show(part, part.dataset.mode === mode);
  form.userUID.required = form.displayName.required = mode === 'dev';
  form.token.required = mode === 'token';
}
ui.signInForm.addEventListener('change', modeChanged);
modeChanged();

// The page opens on what is on air, kept current by the programmes feed; the last programme
// signed in to is picked again when it is still on air.
let pickedBefore = saved.program ?? '';
function renderOnAir(state: ProgramsState): void {
  show(ui.noPrograms, renderPrograms(ui.programList, state.programs) === 0);
  const again = pickedBefore && ui.programList.querySelector<HTMLInputElement>(`input[value="${CSS.escape(pickedBefore)}"]`);
  if (again) {
    again.checked = true;
    pickedBefore = '';
  }
}
watchPrograms({ url: location.origin }).then(
  (feed) => {
    feed.state.subscribe(renderOnAir);
    renderOnAir(feed.state);
  },
  () => {
    // Without the list the page still works: a programme can be named by hand.
    ui.noPrograms.textContent = 'The list of programmes is unavailable; name one below.';
    ui.otherProgram.open = true;
  },
);

ui.signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const f = fields(ui.signInForm);
  const program = f.otherProgram || f.program;
  if (!program) {
    showError(new Error('Pick a programme on air, or name another one.'));
    return;
  }
  const identity = f.mode === 'dev' ? { identity: { userUID: f.userUID ?? '', displayName: f.displayName ?? '' } } : { token: f.token ?? '' };
  ui.status.textContent = 'Connecting…';
  void act(ui.connectButton, async () => {
    try {
      start(await connect({ url: location.origin, program, ...identity }));
    } catch (err) {
      ui.status.textContent = 'Signed out';
      throw err;
    }
    localStorage.setItem(REMEMBERED, JSON.stringify({ program, userUID: f.userUID, displayName: f.displayName }));
  });
});

ui.signOut.addEventListener('click', () => client?.close());

// --- a session ---------------------------------------------------------------------------------

function start(c: OnAirClient): void {
  client = c;
  votes.clear();
  lastAggro = shownSystem = null;
  c.state.subscribe(render);
  c.socket.on('disconnect', (reason) => {
    // socket.io comes back by itself unless the server or this page ended the session.
    if (c.socket.active) return render(c.state);
    if (client === c) stop(reason === 'io client disconnect' ? null : 'Disconnected by the server');
  });
  c.socket.on('connect_error', (err) => {
    if (client !== c || c.socket.active) return;
    stop(null);
    showError(Object.assign(err, { code: (err as { data?: { code?: string } }).data?.code }));
  });
  render(c.state);
}

function stop(reason: string | null): void {
  client = null;
  show(ui.signIn, true);
  show(ui.signOut, false);
  show(ui.lobby, false);
  show(ui.room, false);
  ui.passwordDialog.close();
  ui.editDialog.close();
  ui.reportDialog.close();
  ui.status.textContent = reason ?? 'Signed out';
}

function render(state: OnAirState): void {
  const c = client;
  if (!c || c.state !== state) return;
  const me = state.me;
  const inRoom = state.roomId !== null;
  show(ui.signIn, false);
  show(ui.signOut, true);
  // A lost line keeps the page as it was (the server holds the seat for its reconnect grace,
  // spec 7.1); what can be sent waits until the line is back.
  show(ui.lobby, !inRoom);
  show(ui.room, inRoom);
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-needs-line]')) button.disabled = !state.connected;
  const who = `${me?.displayName || me?.userUID || 'Signed in'} · ${c.program}`;
  ui.status.textContent = !state.connected ? 'Reconnecting…' : state.recovered || state.resumed ? `${who} · back, caught up` : who;

  if (state.lastSystem && state.lastSystem !== shownSystem) {
    shownSystem = state.lastSystem;
    const n = state.lastSystem;
    if (n.code === 'SLOW_MODE' && n.seconds !== undefined) {
      if (n.roomId) slow.room.set(n.roomId, n.seconds);
      else slow.programme = n.seconds;
    }
    banner(ui.notice, ui.noticeText, describeSystem(n, me?.userUID));
  }

  const rooms = renderRooms(ui.roomList, state.rooms.values(), joinFromList);
  ui.roomTotal.textContent = rooms ? `(${rooms})` : '';
  show(ui.noRooms, rooms === 0);

  if (!inRoom) return;
  // A room outside the lobby's featured view (found by search or quick join) is not in
  // `state.rooms`: its title is the one the search or the join answered.
  ui.roomTitle.textContent = state.rooms.get(state.roomId!)?.title ?? titles.get(state.roomId!) ?? 'Room';
  const owner = state.ownerUID !== null && state.ownerUID === me?.userUID;
  show(ui.ownerBadge, owner);
  show(ui.editRoom, owner);
  if (!owner && ui.editDialog.open) ui.editDialog.close();
  const seconds = slow.room.get(state.roomId!) || slow.programme;
  show(ui.slowMode, seconds > 0);
  ui.slowMode.textContent = `Slow mode: 1 message / ${seconds} s`;
  ui.memberTotal.textContent = `(${renderMembers(ui.members, state.members, me?.userUID, { ownerUID: state.ownerUID, onRemove: owner ? removeMember : undefined })})`;
  renderChat(ui.chatLog, state.messages, me?.userUID, openReport);
  renderAggro(state);
}

const points = (n: number) => (Math.abs(n) === 1 ? 'point' : 'points');

function renderAggro(state: OnAirState): void {
  const a = state.aggro;
  show(ui.aggro, a !== null);
  show(ui.noAggro, a === null);
  if (!a) {
    ui.noAggro.textContent =
      lastAggro && lastAggro.roomId === state.roomId
        ? `The last aggro, “${lastAggro.msg}”, ended with ${lastAggro.point} ${points(lastAggro.point)}.`
        : 'No live aggro.';
    return;
  }
  lastAggro = { aggroUID: a.aggroUID, msg: a.msg, point: a.point, roomId: a.roomId };
  ui.aggroAuthor.textContent = `${a.displayName} asks the room`;
  ui.aggroMsg.textContent = a.msg;
  ui.aggroPoint.textContent = String(a.point);
  ui.pointsLabel.textContent = points(a.point);
  const own = a.userUID === state.me?.userUID;
  const voted = votes.get(a.aggroUID);
  for (const [button, direction] of [[ui.voteUp, 'up'], [ui.voteDown, 'down']] as const) {
    button.disabled = own || voted !== undefined;
    button.classList.toggle('chosen', voted === direction);
    button.title = own ? 'You cannot vote on your own aggro' : voted ? 'You have voted' : '';
  }
  tick();
}

/** The countdown runs on its own clock: the state changes only when the server says something. */
function tick(): void {
  const a = client?.state.aggro;
  if (!a) return;
  const { left, share } = secondsLeft(a);
  ui.aggroCountdown.textContent = left > 0 ? `${left} s left` : 'Ending…';
  ui.aggroProgress.value = share;
}
setInterval(tick, 250);

// --- actions --------------------------------------------------------------------------------------

function joinFromList(room: RoomSummary): void {
  if (!room.password) {
    void act(null, () => client!.joinRoom(room.roomId));
    return;
  }
  lockedRoom = room;
  ui.passwordRoom.textContent = room.title;
  ui.passwordError.textContent = '';
  ui.passwordForm.reset();
  ui.passwordDialog.showModal();
}

ui.passwordForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const room = lockedRoom;
  const button = ui.passwordForm.querySelector<HTMLButtonElement>('[type=submit]')!;
  if (!room || !client) return;
  button.disabled = true;
  client
    .joinRoom(room.roomId, fields(ui.passwordForm).password)
    .then(
      () => ui.passwordDialog.close(),
      (err: unknown) => {
        ui.passwordError.textContent = describeError(err);
        ui.passwordForm.querySelector('input')!.select();
      },
    )
    .finally(() => (button.disabled = false));
});
byId('password-cancel').addEventListener('click', () => ui.passwordDialog.close());

ui.createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const f = fields(ui.createForm);
  const room = { title: f.title ?? '', max: Number(f.max), ...(f.password ? { password: f.password } : {}) };
  void act(ui.createForm.querySelector('button'), () => client!.createRoom(room)).then((ok) => ok && ui.createForm.reset());
});

/** The search's pages, kept in order so that "More rooms" appends the next one (spec 3.1: the
 * lobby lists the featured view only; every room is reached by pages). */
const titles = new Map<string, string>();
let search: { q?: string; open?: boolean; next: string | null; rooms: RoomSummary[] } | null = null;

async function searchPage(more: boolean): Promise<void> {
  if (!search) return;
  const page = await client!.listRooms({
    limit: 10,
    ...(search.q ? { q: search.q } : {}),
    ...(search.open ? { open: true } : {}),
    ...(more && search.next ? { cursor: search.next } : {}),
  });
  search.rooms = more ? [...search.rooms, ...page.rooms] : page.rooms;
  search.next = page.next;
  for (const r of page.rooms) titles.set(r.roomId, r.title);
  const n = renderRooms(ui.searchResults, search.rooms, joinFromList);
  show(ui.searchNone, n === 0 && page.next === null);
  show(ui.searchMore, page.next !== null);
}

ui.searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const f = fields(ui.searchForm);
  search = { next: null, rooms: [], ...(f.q ? { q: f.q } : {}), ...(f.open ? { open: true } : {}) };
  void act(ui.searchForm.querySelector('button[type="submit"]'), () => searchPage(false));
});
ui.searchMore.addEventListener('click', () => void act(ui.searchMore, () => searchPage(true)));
// The fullest room with a free seat; the room's history shows on entry as after any join.
ui.quickJoin.addEventListener('click', () => void act(ui.quickJoin, () => quickJoin()));

async function quickJoin(): Promise<void> {
  const c = client!;
  const { roomId, title } = await c.quickJoin();
  titles.set(roomId, title);
  render(c.state);
}

ui.leave.addEventListener('click', () => void act(ui.leave, () => client!.leaveRoom()));

// --- moderation (spec 9): the owner's controls and viewers' reports --------------------------------

function removeMember(user: UserInfo): void {
  void act(null, () => client!.removeMember(user.userUID));
}

ui.editRoom.addEventListener('click', () => {
  const c = client;
  if (!c?.state.roomId) return;
  ui.editForm.reset();
  ui.editError.textContent = '';
  const title = ui.editForm.querySelector<HTMLInputElement>('[name="title"]')!;
  title.value = ui.roomTitle.textContent ?? '';
  ui.editDialog.showModal();
  title.select();
});
byId('edit-cancel').addEventListener('click', () => ui.editDialog.close());
ui.editForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const c = client;
  if (!c) return;
  const f = fields(ui.editForm);
  const change: { title?: string; password?: string | null } = {};
  if (f.title && f.title !== ui.roomTitle.textContent) change.title = f.title;
  if (f.open) change.password = null;
  else if (f.password) change.password = f.password;
  if (Object.keys(change).length === 0) return ui.editDialog.close();
  const button = ui.editForm.querySelector<HTMLButtonElement>('[type=submit]')!;
  button.disabled = true;
  c.updateRoom(change)
    .then(
      (room) => {
        titles.set(room.roomId, room.title);
        ui.editDialog.close();
        render(c.state);
      },
      (err: unknown) => (ui.editError.textContent = describeError(err)),
    )
    .finally(() => (button.disabled = false));
});

function openReport(message: ChatMessage): void {
  reporting = message;
  ui.reportQuote.textContent = `${message.displayName}: ${message.msg}`;
  ui.reportError.textContent = '';
  ui.reportDialog.showModal();
}
byId('report-cancel').addEventListener('click', () => ui.reportDialog.close());
ui.reportForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const c = client;
  const message = reporting;
  if (!c || !message) return;
  const button = ui.reportForm.querySelector<HTMLButtonElement>('[type=submit]')!;
  button.disabled = true;
  c.report({ id: message.id }, fields(ui.reportForm).reason ?? '')
    .then(
      (reported) => {
        ui.reportDialog.close();
        banner(ui.notice, ui.noticeText, reported ? 'Thank you: the moderators will look at it' : 'You had reported this message already');
      },
      (err: unknown) => (ui.reportError.textContent = describeError(err)),
    )
    .finally(() => (button.disabled = false));
});

function sendFrom(formElement: HTMLFormElement, send: (msg: string) => Promise<unknown>): void {
  formElement.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = formElement.querySelector('input')!;
    // The server's rule: a message of only invisible characters is not sent.
    const msg = cleanMessage(input.value);
    if (!msg || !client) return;
    void act(formElement.querySelector('button'), () => send(msg)).then((ok) => {
      if (ok) input.value = '';
      input.focus();
    });
  });
}
sendFrom(ui.chatForm, (msg) => client!.chat(msg));
sendFrom(ui.aggroForm, (msg) => client!.postAggro(msg));

function vote(direction: 'up' | 'down'): void {
  const c = client;
  const a = c?.state.aggro;
  if (!c || !a) return;
  ui.voteUp.disabled = ui.voteDown.disabled = true;
  void act(null, async () => {
    await c.vote(a.aggroUID, direction);
    votes.set(a.aggroUID, direction);
  }).then(() => client === c && renderAggro(c.state));
}
ui.voteUp.addEventListener('click', () => vote('up'));
ui.voteDown.addEventListener('click', () => vote('down'));
