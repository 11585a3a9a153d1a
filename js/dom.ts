// Small DOM and byte helpers. Text always goes through textContent: prompts, error messages and file
// names come from users and servers and may contain markup.

type Child = Node | string | null | undefined | false;

export interface ElProps {
  class?: string;
  text?: string;
  attrs?: Record<string, string | number | boolean | null | undefined>;
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

export function setAttrs(node: Element, attrs: Record<string, string | number | boolean | null | undefined>): void {
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

/** Show or hide with the `hidden` attribute (CSS keeps `[hidden]` display:none). */
export function show(node: HTMLElement, visible: boolean): void {
  node.hidden = !visible;
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

// ---------------------------------------------------------------------------------------------- bytes

const EMPTY = new Uint8Array(0);

/**
 * A byte view of whatever a host hands us for a Bytes trait or buffer: ipywidgets gives a DataView
 * that may start at a non-zero byteOffset inside a bigger buffer, other hosts give typed arrays or
 * ArrayBuffers. The view never copies and always respects byteOffset/byteLength.
 */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return EMPTY;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** FNV-1a over the bytes plus the length: cheap identity for "is this the same image again". */
export function hashBytes(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.byteLength; i++) {
    hash ^= bytes[i] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return `${bytes.byteLength}:${(hash >>> 0).toString(16)}`;
}

/** The image type from magic bytes (thumbnails carry no mime type). */
export function sniffMime(bytes: Uint8Array): string {
  const b = (i: number): number => bytes[i] ?? -1;
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return "image/png";
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return "image/jpeg";
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46) return "image/gif";
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45) {
    return "image/webp";
  }
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart();
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "image/svg+xml";
  return "image/png";
}

/** A Blob holding exactly the view's bytes (not the whole underlying buffer). */
export function blobOf(bytes: Uint8Array, mime?: string): Blob {
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime ?? sniffMime(bytes) });
}

/** A standalone ArrayBuffer copy of a view, for message buffers (some transports ignore byteOffset). */
export function standalone(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

export function randomId(prefix: string): string {
  const c = globalThis.crypto as Crypto | undefined;
  const rand = c && typeof c.randomUUID === "function" ? c.randomUUID() : Math.random().toString(36).slice(2);
  return `${prefix}-${rand}`;
}

/** "1,234" — numbers in counters. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["button", "checkbox", "radio", "range", "file", "submit", "reset", "color"].includes(target.type);
  }
  return target.isContentEditable;
}

// ------------------------------------------------------------------------------------------- problems

/** The element that shows a validation message next to the control for `param`. */
export function problemSlot(param: string): HTMLElement {
  const slot = h("div", { class: "iw-problem", attrs: { "data-problem-for": param, id: uid(`problem-${param}`) } });
  slot.hidden = true;
  return slot;
}

/** Show (or clear) a problem message and tie it to its control for screen readers. */
export function showProblem(slot: HTMLElement, control: HTMLElement | null, message: string | undefined): void {
  slot.textContent = message ?? "";
  slot.hidden = !message;
  if (control) {
    setAttrs(control, { "aria-invalid": message ? "true" : null, "aria-describedby": message ? slot.id : null });
  }
}
