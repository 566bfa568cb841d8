/** The few DOM helpers the console needs: find by test id, build elements holding text only. */

/** The element marked `data-testid="id"` (every part of the page has one). */
export function byId<T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document): T {
  const found = root.querySelector<T>(`[data-testid="${id}"]`);
  if (!found) throw new Error(`the page has no ${id}`);
  return found;
}

type Child = Node | string | null | undefined | false;

/** An element with attributes and children; strings become text nodes, never HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function show(node: HTMLElement, visible: boolean): void {
  node.hidden = !visible;
}

/** The named fields of a form, as trimmed strings. */
export function fields(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new FormData(form)) {
    // A password is taken as typed: its spaces are part of it.
    if (typeof value === 'string') out[name] = name === 'password' ? value : value.trim();
  }
  return out;
}
