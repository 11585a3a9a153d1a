// Trait and message types (docs/PROTOCOL.md) and the per-view context every view module receives:
// a typed wrapper over the anywidget model that remembers each handler, timer and object URL so the
// cleanup returned by `render` can undo all of it. Only get/set/on/off/save_changes/send are used.

import type { AnyModel } from "@anywidget/types";
import { blobOf, toBytes } from "./dom";

export type Mode = "generate" | "edit" | "variation";
export type State = "idle" | "running" | "done" | "error" | "cancelled";
/** Bytes as a host delivers them: ipywidgets gives DataView (mind byteOffset). */
export type Bytes = DataView | Uint8Array | ArrayBuffer;

export interface Options {
  prompt: string;
  mode: Mode;
  model: string;
  size: string;
  quality: string | null;
  n: number;
  background: string | null;
  output_format: string;
  output_compression: number | null;
  moderation: string | null;
  input_fidelity: string | null;
  partial_images: number;
  [key: string]: unknown;
}

export interface Capabilities {
  model?: string;
  known?: boolean;
  status?: string;
  note?: string;
  replacement?: string | null;
  shutdown_date?: string | null;
  lifecycle_message?: string;
  endpoints?: string[];
  sizes?: string[];
  custom_size?: boolean;
  qualities?: string[];
  output_formats?: string[];
  backgrounds?: string[];
  n_max?: number;
  prompt_max?: number;
  max_input_images?: number;
  mask?: boolean;
  markup?: boolean;
  input_fidelity?: string[];
  moderation?: boolean;
  streaming?: boolean;
  max_partial_images?: number;
  compressible_formats?: string[];
  transparent_formats?: string[];
}

export interface InputItem {
  id: string;
  name: string;
  width: number;
  height: number;
  thumb: Bytes;
}

export interface Status {
  state: State;
  message?: string;
  job_id?: string | null;
  started_ms?: number | null;
}

export interface ErrorInfo {
  title?: string;
  message?: string;
  hint?: string;
  code?: string | null;
  status?: number | null;
}

export interface ResultItem {
  id: string;
  width?: number;
  height?: number;
  format?: string;
  thumb: Bytes;
  prompt?: string;
  model?: string;
  size?: string;
  quality?: string;
  cost_text?: string;
  code?: string;
}

export interface HistoryRun {
  run_id: string;
  prompt?: string;
  created?: string;
  model?: string;
  items: { id: string; thumb: Bytes }[];
}

export interface Backend {
  kind?: "openai" | "custom" | "emulator" | string;
  label?: string;
  synthetic?: boolean;
}

export interface Cost {
  estimate_text?: string;
  last_text?: string;
  session_text?: string;
  estimate_usd?: number | null;
  last_usd?: number | null;
  session_usd?: number | null;
}

export interface WidgetModel {
  options: Options;
  models: string[];
  capabilities: Capabilities;
  problems: Record<string, string>;
  inputs: InputItem[];
  mask_base: Bytes;
  mask: Bytes;
  status: Status;
  preview: Bytes;
  error: ErrorInfo;
  results: ResultItem[];
  history: HistoryRun[];
  backend: Backend;
  cost: Cost;
  [key: string]: unknown;
}

export type Command =
  | { type: "generate"; options?: Options }
  | { type: "cancel" }
  | { type: "fetch_image"; id: string; request_id: string }
  | { type: "use_as_input"; id: string; role: "edit" | "reference" }
  | { type: "add_inputs"; names: string[] }
  | { type: "add_input_chunk"; upload_id: string; index: number; total: number; name: string }
  | { type: "remove_input"; id: string }
  | { type: "move_input"; id: string; to: number }
  | { type: "compare"; ids: [string, string]; request_id: string };

/** One image of a `compare` reply (its record's fields; `mime` of the matching buffer). */
export interface CompareItem {
  id: string;
  prompt?: string;
  model?: string;
  params?: Record<string, unknown>;
  created?: string;
  cost_text?: string;
  width?: number | null;
  height?: number | null;
  mime?: string | null;
}

/** A parameter the two compared images differ in; `null` = not set on that side. */
export interface CompareDifference {
  param: string;
  a: unknown;
  b: unknown;
}

export type Reply =
  | { type: "image"; id: string; request_id: string; mime?: string | null; error?: string }
  | { type: "notice"; level?: "info" | "warning"; message: string }
  | {
      type: "compare";
      request_id: string;
      items?: CompareItem[];
      differences?: CompareDifference[];
      error?: string;
    };

export const DEFAULT_OPTIONS: Options = {
  prompt: "",
  mode: "generate",
  model: "",
  size: "auto",
  quality: "auto",
  n: 1,
  background: "auto",
  output_format: "png",
  output_compression: null,
  moderation: "auto",
  input_fidelity: null,
  partial_images: 0,
};

type Handler = (...args: unknown[]) => void;

/**
 * Everything a view needs, with bookkeeping so one `dispose()` removes every model handler, DOM
 * listener (through `signal`), timer and object URL the view created.
 */
export class Ctx {
  readonly signal: AbortSignal;
  private readonly abort = new AbortController();
  private readonly handlers: [string, Handler][] = [];
  private readonly timeouts = new Set<number>();
  private readonly intervals = new Set<number>();
  private readonly urls = new Set<string>();
  private noticeSink: ((message: string, level: "info" | "warning") => void) | null = null;
  disposed = false;

  constructor(
    readonly model: AnyModel<WidgetModel>,
    readonly root: HTMLElement,
  ) {
    this.signal = this.abort.signal;
  }

  // ------------------------------------------------------------------------------------ traits
  options(): Options {
    const raw = this.model.get("options");
    return { ...DEFAULT_OPTIONS, ...(raw && typeof raw === "object" ? raw : {}) };
  }
  caps(): Capabilities {
    return this.model.get("capabilities") ?? {};
  }
  problems(): Record<string, string> {
    return this.model.get("problems") ?? {};
  }
  status(): Status {
    const s = this.model.get("status");
    return s && typeof s === "object" && s.state ? s : { state: "idle" };
  }
  running(): boolean {
    return this.status().state === "running";
  }
  list<K extends "models" | "inputs" | "results" | "history">(name: K): WidgetModel[K] {
    const v = this.model.get(name);
    return (Array.isArray(v) ? v : []) as WidgetModel[K];
  }
  bytes(name: "mask_base" | "mask" | "preview"): Uint8Array {
    return toBytes(this.model.get(name));
  }

  /** Write a whole new options dict (never mutate the one the model holds) and sync it. */
  setOptions(patch: Partial<Options>): void {
    if (this.disposed) return;
    this.model.set("options", { ...this.options(), ...patch });
    this.model.save_changes();
  }

  setBytes(name: "mask", bytes: Uint8Array): void {
    if (this.disposed) return;
    this.model.set(name, new DataView(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength));
    this.model.save_changes();
  }

  send(msg: Command, buffers?: ArrayBuffer[]): void {
    if (this.disposed) return;
    if (buffers && buffers.length) this.model.send(msg, undefined, buffers);
    else this.model.send(msg);
  }

  // ----------------------------------------------------------------------------------- events
  /** model.on("change:name"), remembered for model.off at cleanup. */
  onChange(names: (keyof WidgetModel & string)[], fn: () => void): void {
    for (const name of names) this.track(`change:${name}`, fn as Handler);
  }
  onMessage(fn: (msg: Reply, buffers: DataView[]) => void): void {
    this.track("msg:custom", fn as Handler);
  }
  private track(event: string, fn: Handler): void {
    this.model.on(event, fn);
    this.handlers.push([event, fn]);
  }

  /** addEventListener bound to the view's lifetime. */
  listen<E extends Event = Event>(
    target: EventTarget,
    type: string,
    fn: (event: E) => void,
    opts: AddEventListenerOptions = {},
  ): void {
    target.addEventListener(type, fn as EventListener, { ...opts, signal: this.signal });
  }

  // ----------------------------------------------------------------------------------- timers
  timeout(fn: () => void, ms: number): number {
    const id = window.setTimeout(() => {
      this.timeouts.delete(id);
      fn();
    }, ms);
    this.timeouts.add(id);
    return id;
  }
  clearTimeout(id: number | null): void {
    if (id === null) return;
    window.clearTimeout(id);
    this.timeouts.delete(id);
  }
  interval(fn: () => void, ms: number): number {
    const id = window.setInterval(fn, ms);
    this.intervals.add(id);
    return id;
  }
  clearInterval(id: number | null): void {
    if (id === null) return;
    window.clearInterval(id);
    this.intervals.delete(id);
  }

  // ------------------------------------------------------------------------------ object URLs
  url(bytes: Uint8Array, mime?: string): string {
    const url = URL.createObjectURL(blobOf(bytes, mime));
    this.urls.add(url);
    return url;
  }
  revoke(url: string | null | undefined): void {
    if (!url || !this.urls.has(url)) return;
    URL.revokeObjectURL(url);
    this.urls.delete(url);
  }

  // ---------------------------------------------------------------------------------- notices
  setNoticeSink(fn: (message: string, level: "info" | "warning") => void): void {
    this.noticeSink = fn;
  }
  notice(message: string, level: "info" | "warning" = "info"): void {
    this.noticeSink?.(message, level);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.abort.abort();
    for (const [event, fn] of this.handlers) this.model.off(event, fn);
    this.handlers.length = 0;
    for (const id of this.timeouts) window.clearTimeout(id);
    for (const id of this.intervals) window.clearInterval(id);
    this.timeouts.clear();
    this.intervals.clear();
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls.clear();
    this.noticeSink = null;
  }
}

/** A piece of the UI: its elements are placed by widget.ts; `dispose` runs before Ctx.dispose. */
export interface View {
  dispose?(): void;
}

/** Option keys that have their own control in controls.ts. */
export const CONTROL_PARAMS = [
  "prompt", "mode", "model", "size", "quality", "n", "background", "output_format",
  "output_compression", "moderation", "input_fidelity", "partial_images",
] as const;

/** Problem parameter names shown next to a control with another name. */
const PROBLEM_ALIASES: Record<string, string> = { stream: "partial_images", endpoint: "mode" };

/**
 * Where a problem (keyed by API parameter name) is shown: a control key, "image" (inputs view),
 * "mask" (mask view, only while it is visible), or null for the general list.
 */
export function problemField(param: string, maskShown: boolean): string | null {
  const key = PROBLEM_ALIASES[param] ?? param;
  if ((CONTROL_PARAMS as readonly string[]).includes(key) || key === "image") return key;
  if (key === "mask" && maskShown) return key;
  return null;
}

/** The mask editor is shown in edit mode when there is a first input to paint on. */
export function maskShown(ctx: Ctx): boolean {
  return ctx.options().mode === "edit" && ctx.bytes("mask_base").byteLength > 0;
}
