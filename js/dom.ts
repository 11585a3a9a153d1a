// Small DOM helpers. Text always goes through textContent: prompts, error messages and file names come
// from users and servers and may contain markup.

type Child = Node | string | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined;

export interface ElProps {
  class?: string;
  text?: string;
  attrs?: Record<string, AttrValue>;
}

/** Create an element; attributes with `false`/`null`/`undefined` are left out, `true` sets "". */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElProps = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.attrs) setAttrs(node, props.attrs);
  if (props.text !== undefined) node.textContent = props.text;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function setAttrs(node: Element, attrs: Record<string, AttrValue>): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) node.removeAttribute(name);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
}

/** A button that is a real <button type="button"> (keyboard accessible for free). */
export function button(label: string, props: ElProps = {}): HTMLButtonElement {
  const b = h("button", { ...props, text: label });
  b.type = "button";
  return b;
}

/** Set a title tooltip, or remove it when empty. */
export function setTitle(node: HTMLElement, title: string | null | undefined): void {
  if (title) node.title = title;
  else node.removeAttribute("title");
}

let uidCounter = 0;
/** Unique ids for label/for and aria-describedby pairs, distinct across widget views on one page. */
export function uid(prefix: string): string {
  uidCounter += 1;
  return `iw-${prefix}-${uidCounter}-${Math.random().toString(36).slice(2, 7)}`;
}

/** "1,234" — numbers in counters. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** "Nov 20, 10:00" in the reader's locale; `fallback` when the date does not parse. */
export function shortDate(iso: string | undefined, fallback = ""): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return fallback;
  return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** An <img> showing `bytes` through an object URL from `url` (no src when there are no bytes). */
export function thumbImg(
  bytes: Uint8Array,
  attrs: Record<string, AttrValue>,
  url: (bytes: Uint8Array) => string,
): HTMLImageElement {
  const img = h("img", { attrs });
  if (bytes.byteLength) img.src = url(bytes);
  return img;
}
