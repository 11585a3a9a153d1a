// A fake anywidget model for unit tests: the get/set/on/off/save_changes/send subset, recording sends,
// with `emit` to play the kernel's messages.

import type { AnyModel } from "@anywidget/types";
import { Ctx } from "../ctx";
import type { WidgetModel } from "../protocol";

type Fn = (...args: unknown[]) => void;

export class FakeModel {
  readonly sent: { msg: unknown; buffers: ArrayBuffer[] }[] = [];
  readonly handlers = new Map<string, Fn[]>();
  private readonly state: Record<string, unknown> = {};

  get(key: string): unknown {
    return this.state[key];
  }
  set(key: string, value: unknown): void {
    this.state[key] = value;
    this.emit(`change:${key}`);
  }
  save_changes(): void {}
  send(msg: unknown, _callbacks?: unknown, buffers?: ArrayBuffer[]): void {
    this.sent.push({ msg: structuredClone(msg), buffers: buffers ?? [] });
  }
  on(event: string, fn: Fn): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
  }
  off(event: string, fn: Fn): void {
    this.handlers.set(event, (this.handlers.get(event) ?? []).filter((f) => f !== fn));
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.handlers.get(event) ?? [])]) fn(...args);
  }
  /** A custom message from the kernel. */
  reply(msg: unknown, buffers: DataView[] = []): void {
    this.emit("msg:custom", msg, buffers);
  }
  handlerCount(): number {
    let n = 0;
    for (const list of this.handlers.values()) n += list.length;
    return n;
  }
}

export function fakeCtx(): { model: FakeModel; ctx: Ctx } {
  const model = new FakeModel();
  const root = {} as HTMLElement; // request/reply and send never touch the DOM
  return { model, ctx: new Ctx(model as unknown as AnyModel<WidgetModel>, root) };
}
