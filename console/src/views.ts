/** The console's lists, drawn from the SDK's state. Lists keep their elements by id, so a
 * count changing or a message arriving never rebuilds (or steals focus from) the rest. */
import type { AggroMessage, ChatMessage, ProgramOnAir, RoomSummary, UserInfo } from '@onair/client';
import { el } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';

function lockIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '14');
  svg.setAttribute('height', '14');
  svg.setAttribute('class', 'lock');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'locked');
  svg.setAttribute('data-testid', 'room-lock');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', 'M4 7V5a4 4 0 1 1 8 0v2h.5A1.5 1.5 0 0 1 14 8.5v5a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 2 13.5v-5A1.5 1.5 0 0 1 3.5 7H4Zm2 0h4V5a2 2 0 1 0-4 0v2Z');
  svg.append(path);
  return svg;
}

/** Puts `items` into `list` in order, reusing the element of each key and dropping the rest. */
function reconcile<T>(list: HTMLElement, items: Iterable<T>, key: (item: T) => string, make: (item: T) => HTMLElement, update: (node: HTMLElement, item: T) => void): number {
  const old = new Map<string, HTMLElement>();
  for (const node of list.children) if (node instanceof HTMLElement && node.dataset.key) old.set(node.dataset.key, node);
  let previous: Element | null = null;
  let n = 0;
  for (const item of items) {
    const k = key(item);
    let node = old.get(k);
    old.delete(k);
    if (!node) {
      node = make(item);
      node.dataset.key = k;
    }
    update(node, item);
    // Only misplaced nodes move, so an unchanged list is left untouched.
    const expected: Element | null = previous ? previous.nextElementSibling : list.firstElementChild;
    if (expected !== node) (previous ? previous.after(node) : list.prepend(node));
    previous = node;
    n++;
  }
  for (const node of old.values()) node.remove();
  return n;
}

export function renderRooms(list: HTMLElement, rooms: Iterable<RoomSummary>, onJoin: (room: RoomSummary) => void): number {
  return reconcile(
    list,
    rooms,
    (r) => r.roomId,
    (r) => {
      const join = el('button', { type: 'button', 'data-testid': 'room-join', text: 'Join' });
      join.addEventListener('click', () => onJoin(JSON.parse(li.dataset.room ?? '{}') as RoomSummary));
      const li = el('li', { 'data-testid': 'room-item', 'data-room-id': r.roomId },
        el('span', { class: 'title', 'data-testid': 'room-name' }),
        el('span', { class: 'count', 'data-testid': 'room-count' }),
        join);
      return li;
    },
    (li, r) => {
      li.dataset.room = JSON.stringify(r);
      const title = li.querySelector('.title')!;
      title.textContent = r.title;
      if (r.password) title.prepend(lockIcon(), ' ');
      const count = li.querySelector<HTMLElement>('.count')!;
      count.textContent = `${r.count} / ${r.max}`;
      count.setAttribute('aria-label', `${r.count} of ${r.max} places taken`);
      count.classList.toggle('full', r.count >= r.max);
      li.querySelector('button')!.setAttribute('aria-label', `Join ${r.title}`);
    },
  );
}

function hue(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.codePointAt(0)!) % 360;
  return h;
}

function avatar(user: UserInfo): HTMLElement {
  if (user.photoURL) return el('img', { class: 'avatar', src: user.photoURL, alt: '' });
  const initial = el('span', { class: 'avatar', 'aria-hidden': 'true', text: [...user.displayName][0]?.toUpperCase() ?? '?' });
  initial.style.background = `hsl(${hue(user.userUID)} 55% 50%)`;
  return initial;
}

/** The room's owner (spec 9) is marked for everyone; the owner also gets a Remove button on
 * each other member (`onRemove`, absent for everyone else). */
export function renderMembers(
  list: HTMLElement,
  members: readonly UserInfo[],
  me: string | undefined,
  owner: { ownerUID: string | null; onRemove?: ((user: UserInfo) => void) | undefined } = { ownerUID: null },
): number {
  return reconcile(
    list,
    members,
    (u) => u.userUID,
    (u) => {
      const remove = el('button', { type: 'button', class: 'quiet small', 'data-testid': 'member-remove', text: 'Remove', 'aria-label': `Remove ${u.displayName} from the room` });
      const li = el('li', { 'data-testid': 'member', 'data-user-uid': u.userUID },
        avatar(u),
        el('span', { 'data-testid': 'member-name', text: u.displayName }),
        u.userUID === me && el('span', { class: 'you', text: '(you)' }),
        el('span', { class: 'owner-badge', 'data-testid': 'member-owner', text: 'owner', hidden: true }),
        remove);
      remove.addEventListener('click', () => removeHandlers.get(li)?.());
      return li;
    },
    (li, u) => {
      li.querySelector<HTMLElement>('[data-testid="member-owner"]')!.hidden = u.userUID !== owner.ownerUID;
      const canRemove = owner.onRemove !== undefined && u.userUID !== me;
      li.querySelector<HTMLElement>('[data-testid="member-remove"]')!.hidden = !canRemove;
      if (canRemove) removeHandlers.set(li, () => owner.onRemove!(u));
      else removeHandlers.delete(li);
    },
  );
}
/** The current action of each member's Remove button (the owner can change). */
const removeHandlers = new WeakMap<HTMLElement, () => void>();

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Messages of others carry a Report action (spec 9); a removed message (`deleteChat`) has left
 * `messages`, so its element goes. */
export function renderChat(log: HTMLElement, messages: readonly ChatMessage[], me: string | undefined, onReport?: (message: ChatMessage) => void): void {
  // Follow new messages only when the reader is already at the bottom.
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  reconcile(
    log,
    messages,
    (m) => m.id,
    (m) => {
      const report = m.userUID !== me && onReport
        ? el('button', { type: 'button', class: 'quiet small report', 'data-testid': 'chat-report', text: 'Report', 'aria-label': `Report this message by ${m.displayName}` })
        : null;
      report?.addEventListener('click', () => onReport!(m));
      return el('li', { 'data-testid': 'chat-message', 'data-message-id': m.id, class: m.userUID === me ? 'mine' : undefined },
        el('span', { class: 'who' }, m.displayName, el('time', { datetime: new Date(m.ts).toISOString(), text: clock.format(m.ts) }), report),
        el('span', { class: 'text', 'data-testid': 'chat-text', text: m.msg }));
    },
    () => {},
  );
  if (atBottom) log.scrollTop = log.scrollHeight;
}

/** Seconds left until `expiresAt`, by this machine's clock, never more than the aggro's whole
 * life (a clock ahead of the server's would otherwise show a longer countdown). */
export function secondsLeft(aggro: AggroMessage, now = Date.now()): { left: number; share: number } {
  const life = Math.max(1, aggro.expiresAt - aggro.ts);
  const ms = Math.min(life, Math.max(0, aggro.expiresAt - now));
  return { left: Math.ceil(ms / 1000), share: ms / life };
}

/** The programmes on air as radio choices of the sign-in form, most viewers first; the one
 * picked stays picked while counts move. */
export function renderPrograms(list: HTMLElement, programs: Iterable<ProgramOnAir>): number {
  return reconcile(
    list,
    programs,
    (p) => p.scheduleUID,
    (p) =>
      el('li', { 'data-testid': 'program-item' },
        el('label', { class: 'inline' },
          el('input', { type: 'radio', name: 'program', value: p.scheduleUID, 'data-testid': 'program-choice' }),
          el('span', { class: 'title', 'data-testid': 'program-title' }),
          el('span', { class: 'muted', 'data-testid': 'program-broadcaster' })),
        el('span', { class: 'count', 'data-testid': 'program-viewers' })),
    (node, p) => {
      node.querySelector('[data-testid="program-title"]')!.textContent = p.title;
      node.querySelector('[data-testid="program-broadcaster"]')!.textContent = p.broadcaster;
      node.querySelector('[data-testid="program-viewers"]')!.textContent = `${p.viewers} watching · ${p.rooms} ${p.rooms === 1 ? 'room' : 'rooms'}`;
    },
  );
}
