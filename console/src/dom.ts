/**
 * A tiny element builder. Text only ever goes in through textContent and attributes through
 * setAttribute, never innerHTML: a username or tenant name full of markup stays text.
 */
type Child = Node | string | number | undefined | null | false;
type Handlers = Partial<Record<keyof HTMLElementEventMap, (event: Event) => void>>;
type Attrs = { on?: Handlers; [name: string]: string | number | boolean | undefined | Handlers };

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'on') {
      for (const [type, handler] of Object.entries(value as Handlers)) el.addEventListener(type, handler as EventListener);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else if (value !== undefined && value !== false) {
      el.setAttribute(name, String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** A table with a header row; each row is a list of cells (text or nodes) plus optional row attributes. */
export function table(headers: readonly string[], rows: readonly { cells: readonly Child[]; attrs?: Attrs }[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, ...rows.map((row) => h('tr', row.attrs ?? {}, ...row.cells.map((cell) => h('td', {}, cell))))),
  );
}

/** The error box every page uses; role=alert so screen readers (and tests) find it. */
export function errorBox(message: string): HTMLElement {
  return h('div', { class: 'error', role: 'alert' }, message);
}
