// The context every view receives: a typed wrapper over the anywidget model that remembers each
// handler, listener, timer, object URL and open request, so one `dispose()` undoes all of it. Only
// get/set/on/off/save_changes/send are used on the model (the subset every host implements). Options go to
// the kernel as patches of the keys that changed (`options_patch`), never as the whole dict.

import type { AnyModel } from "@anywidget/types";
import { blobOf, randomId, toBytes } from "./bytes";
import {
  type Capabilities,
  type Command,
  REPLY_TYPE,
  type Options,
  type Reply,
  type RequestCommand,
  type RequestReplies,
  type RequestType,
  type Status,
  type WidgetModel,
} from "./protocol";

type Handler = (...args: unknown[]) => void;
export type Level = "info" | "warning";

/** A piece of the UI: its root element (placed by widget.ts) and what to undo before Ctx.dispose. */
export interface View<E extends HTMLElement = HTMLElement> {
  el: E;
  cleanup: () => void;
}

/** What a request resolves to: the matching reply and its buffers as byte views. */
export interface Answer<T extends RequestType> {
  reply: RequestReplies[T];
  buffers: Uint8Array[];
}

interface Pending {
  /** The reply type expected. */
  type: Reply["type"];
  resolve: (reply: Reply, buffers: Uint8Array[]) => void;
  reject: (reason: Error) => void;
}

/** The rejection of a request that was superseded, aborted or outlived its view. */
export function abortError(): Error {
  return new DOMException("request aborted", "AbortError");
}

export class Ctx {
  readonly signal: AbortSignal;
  private readonly abort = new AbortController();
  private readonly handlers: [string, Handler][] = [];
  private readonly timeouts = new Set<number>();
  private readonly intervals = new Set<number>();
  private readonly urls = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private noticeSink: ((message: string, level: Level) => void) | null = null;
  private readonly lostHandlers: (() => void)[] = [];
  private readonly unapplied = new Map<number, Partial<Options>>();
  private optionsSeq = 0;
  private readonly optionsView = randomId("options");
  disposed = false;
  /** The widget lost its kernel: a send failed ("Cannot send"), or the host said the comm went away. */
  lost = false;

  constructor(
    readonly model: AnyModel<WidgetModel>,
    readonly root: HTMLElement,
  ) {
    this.signal = this.abort.signal;
    this.onMessage((msg, buffers) => this.route(msg, buffers));
  }

  // ------------------------------------------------------------------------------------ traits
  /** The options as the kernel wrote them: it always sends every key, with its defaults (widget/options.py
   * is the one place they live), so the page has no defaults of its own. */
  options(): Options {
    const raw = this.model.get("options");
    const kernel = (raw && typeof raw === "object" ? raw : {}) as Options;
    // Changes sent but not yet applied by the kernel show over its options, in the order they were made.
    return this.unapplied.size ? (Object.assign({}, kernel, ...this.unapplied.values()) as Options) : kernel;
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
  /** Which run is going ("" when none): a new job, or the same one started again, is another run. */
  runKey(): string {
    const s = this.status();
    return s.state === "running" ? `${s.job_id ?? ""}|${s.started_ms ?? ""}` : "";
  }
  list<K extends "models" | "inputs" | "results" | "history">(name: K): WidgetModel[K] {
    const v = this.model.get(name);
    return (Array.isArray(v) ? v : []) as WidgetModel[K];
  }
  bytes(name: "mask_base" | "mask" | "markup" | "preview"): Uint8Array {
    return toBytes(this.model.get(name));
  }

  /** Send only the keys that changed (`options_patch`, numbered): a change made in Python at the same moment to
   * other keys survives, and of two changes to one key the one the kernel applies last wins, in both places. */
  setOptions(patch: Partial<Options>): void {
    if (this.disposed || this.lost) return;
    const seq = ++this.optionsSeq;
    this.unapplied.set(seq, { ...patch });
    this.send({ type: "options_patch", seq, view: this.optionsView, changes: patch });
  }
  /** The kernel applied the patches up to `seq`: its options (already synced) are the truth again. */
  private applied(seq: number): void {
    for (const key of [...this.unapplied.keys()]) if (key <= seq) this.unapplied.delete(key);
    for (const [event, fn] of this.handlers) if (event === "change:options") fn(); // it may have changed them
  }

  setBytes(name: "mask" | "markup", bytes: Uint8Array): void {
    if (this.disposed || this.lost) return;
    this.model.set(name, new DataView(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength));
    this.guard(() => this.model.save_changes());
  }

  // ---------------------------------------------------------------------------------- messages
  send(msg: Command, buffers?: ArrayBuffer[]): void {
    if (this.disposed || this.lost) return;
    this.guard(() => {
      if (buffers && buffers.length) this.model.send(msg, undefined, buffers);
      else this.model.send(msg);
    });
  }

  /** Run a write to the kernel; if the host throws (its comm is gone), the widget has lost its kernel. */
  private guard(write: () => void): void {
    try { write(); } catch { this.markLost(); } // prettier-ignore
  }

  /** Call `fn` once when the widget loses its kernel. */
  onLost(fn: () => void): void {
    // ipywidgets fires this (comm no longer live) when the kernel restarts; only its constructor sets it live.
    if (!this.lostHandlers.length) this.track("comm_live_update", () => this.markLost());
    this.lostHandlers.push(fn);
  }
  markLost(): void {
    if (this.lost || this.disposed) return;
    this.lost = true;
    this.rejectPending();
    for (const fn of this.lostHandlers.splice(0)) fn();
  }

  /**
   * Send a command that the kernel answers with one reply carrying the same `request_id` (added here,
   * as `<tag>-<uuid>`). Resolves with that reply; rejects with an AbortError when `signal` aborts or
   * the view is disposed first, so a stale or late reply never reaches the caller. (A caller that
   * aborts should still check its signal in the continuation, which runs a microtask later.)
   */
  request<T extends RequestType>(
    command: RequestCommand<T> & { type: T },
    opts: { signal?: AbortSignal; tag?: string } = {},
  ): Promise<Answer<T>> {
    return new Promise<Answer<T>>((resolve, reject) => {
      const { signal } = opts;
      if (this.disposed || this.lost || signal?.aborted) {
        reject(abortError());
        return;
      }
      const id = randomId(opts.tag ?? command.type);
      const onAbort = (): void => {
        if (this.pending.delete(id)) reject(abortError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        type: REPLY_TYPE[command.type],
        resolve: (reply, buffers) => {
          signal?.removeEventListener("abort", onAbort);
          resolve({ reply: reply as RequestReplies[T], buffers });
        },
        reject: (reason) => {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      });
      this.send({ ...command, request_id: id } as Command);
    });
  }

  /** Requests still waiting end as aborted: their answer can no longer come. */
  private rejectPending(): void {
    const open = [...this.pending.values()];
    this.pending.clear();
    for (const waiting of open) waiting.reject(abortError());
  }

  private route(msg: Reply, buffers: DataView[] | undefined): void {
    // each view numbers its own patches: another view's answer says nothing about this one's
    if (msg && msg.type === "options_applied" && (msg.view ?? this.optionsView) === this.optionsView) {
      this.applied(msg.seq);
    }
    if (!msg || !("request_id" in msg)) return;
    const waiting = this.pending.get(msg.request_id);
    if (!waiting || waiting.type !== msg.type) return;
    this.pending.delete(msg.request_id);
    waiting.resolve(msg, (buffers ?? []).map(toBytes));
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
  setNoticeSink(fn: (message: string, level: Level) => void): void {
    this.noticeSink = fn;
  }
  notice(message: string, level: Level = "info"): void {
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
    this.rejectPending();
    this.noticeSink = null;
    this.lostHandlers.length = 0;
  }
}

/** Ignore the rejection of an aborted request; anything else is a real error. */
export function ignoreAbort(err: unknown): void {
  if (err instanceof DOMException && err.name === "AbortError") return;
  throw err;
}
