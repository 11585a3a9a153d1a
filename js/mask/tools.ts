// The mask toolbar: brush / eraser, brush size, overlay opacity, and the undo / redo / clear / invert
// buttons. Holds the tool state; tells the editor about changes through `ToolEvents`.

import type { Ctx } from "../ctx";
import { button, h, uid } from "../dom";
import type { EditCommand } from "./history";

export interface ToolEvents {
  command(c: EditCommand): void;
  /** The brush diameter (native pixels) changed. */
  brush(size: number): void;
  tool(erasing: boolean): void;
  /** Overlay opacity, 0–1. */
  opacity(value: number): void;
}

/** What the buttons can do right now. */
export interface ToolState {
  canUndo: boolean;
  canRedo: boolean;
  painted: boolean;
  loaded: boolean;
}

export class MaskTools {
  readonly el: HTMLElement;
  erasing = false;
  private readonly brushBtn = button("Brush", {
    class: "iw-tool",
    attrs: { "aria-pressed": "true", "data-action": "brush", title: "Brush (B)" },
  });
  private readonly eraserBtn = button("Eraser", {
    class: "iw-tool",
    attrs: { "aria-pressed": "false", "data-action": "eraser", title: "Eraser (E)" },
  });
  private readonly size = h("input", { attrs: { type: "range", min: 1, max: 200, step: 1, value: 40, "data-role": "brush-size" } });
  private readonly sizeOut: HTMLOutputElement;
  private readonly opacityInput = h("input", {
    attrs: { type: "range", min: 0, max: 100, step: 5, value: 55, "data-role": "overlay-opacity" },
  });
  private readonly buttons: Record<EditCommand, HTMLButtonElement> = {
    undo: button("Undo", { attrs: { "data-action": "undo", title: "Undo stroke (Ctrl+Z)" } }),
    redo: button("Redo", { attrs: { "data-action": "redo", title: "Redo stroke (Ctrl+Shift+Z / Ctrl+Y)" } }),
    clear: button("Clear", { attrs: { "data-action": "clear", title: "Remove the whole mask" } }),
    invert: button("Invert", { attrs: { "data-action": "invert", title: "Swap painted and unpainted areas" } }),
  };

  constructor(
    ctx: Ctx,
    private readonly events: ToolEvents,
  ) {
    this.size.id = uid("brush");
    this.sizeOut = h("output", { class: "iw-brush-size", attrs: { for: this.size.id } });
    this.opacityInput.id = uid("opacity");
    const { undo, redo, clear, invert } = this.buttons;
    this.el = h("div", { class: "iw-mask-toolbar", attrs: { role: "toolbar", "aria-label": "Mask tools" } }, [
      h("div", { class: "iw-seg iw-tools" }, [this.brushBtn, this.eraserBtn]),
      h("label", { class: "iw-slider", attrs: { for: this.size.id } }, ["Size"]),
      this.size,
      this.sizeOut,
      h("label", { class: "iw-slider", attrs: { for: this.opacityInput.id } }, ["Overlay"]),
      this.opacityInput,
      h("span", { class: "iw-toolbar-gap" }),
      undo,
      redo,
      clear,
      invert,
    ]);

    ctx.listen(this.brushBtn, "click", () => this.setTool(false));
    ctx.listen(this.eraserBtn, "click", () => this.setTool(true));
    ctx.listen(this.size, "input", () => this.setBrush(this.brush));
    ctx.listen(this.opacityInput, "input", () => this.emitOpacity());
    for (const [command, b] of Object.entries(this.buttons)) {
      ctx.listen(b, "click", () => events.command(command as EditCommand));
    }
  }

  /** Announce the initial tool, size and opacity. */
  start(): void {
    this.emitOpacity();
    this.setTool(false);
    this.setBrush(this.brush);
  }

  get brush(): number {
    return Number(this.size.value);
  }

  setBrush(v: number): void {
    const max = Number(this.size.max);
    this.size.value = String(Math.max(1, Math.min(max, Math.round(v))));
    this.sizeOut.textContent = `${this.size.value} px`;
    this.events.brush(this.brush);
  }

  setTool(erase: boolean): void {
    this.erasing = erase;
    this.brushBtn.setAttribute("aria-pressed", String(!erase));
    this.eraserBtn.setAttribute("aria-pressed", String(erase));
    this.events.tool(erase);
  }

  private emitOpacity(): void {
    this.events.opacity(Number(this.opacityInput.value) / 100);
  }

  /** A brush size range that suits a width × height image, and a default size in it. */
  fit(width: number, height: number): void {
    const max = Math.max(16, Math.min(512, Math.round(Math.max(width, height) / 3)));
    this.size.max = String(max);
    this.setBrush(Math.max(2, Math.min(max, Math.round(Math.min(width, height) / 16))));
  }

  /** A key pressed on the canvas: [ and ] resize the brush, B and E pick the tool. False if not ours. */
  key(key: string): boolean {
    const step = Math.max(1, Math.round(this.brush * 0.15));
    if (key === "[") this.setBrush(this.brush - step);
    else if (key === "]") this.setBrush(this.brush + step);
    else if (key.toLowerCase() === "b") this.setTool(false);
    else if (key.toLowerCase() === "e") this.setTool(true);
    else return false;
    return true;
  }

  refresh(s: ToolState): void {
    this.buttons.undo.disabled = !s.canUndo;
    this.buttons.redo.disabled = !s.canRedo;
    this.buttons.clear.disabled = !s.painted;
    this.buttons.invert.disabled = !s.loaded;
  }
}
