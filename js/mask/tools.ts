// The mask toolbar: layer (mask / markup, when the model takes markup), tools (brush, eraser,
// rectangle, lasso, magic wand), brush size, wand tolerance, markup colour, overlay opacity, zoom,
// undo / redo / clear / invert and the keys popover. Holds the tool state; the editor reads it and
// hears about changes through `ToolEvents`.

import type { Ctx } from "../ctx";
import { button, h, uid } from "../dom";
import type { EditCommand, Layer } from "./history";
import type { Tool } from "./interact";
import { colourPixel } from "./markup";
import { shortcutsPopover } from "./shortcuts";

export interface ToolEvents {
  command(c: EditCommand): void;
  /** The brush diameter (native pixels) changed. */
  brush(size: number): void;
  tool(tool: Tool): void;
  /** Overlay opacity, 0–1. */
  opacity(value: number): void;
  /** The person asked for the other layer; the editor decides (it refuses while the other has content). */
  layer(layer: Layer): void;
  zoom(to: "in" | "out" | "fit" | "actual"): void;
}

/** What the buttons can do right now. */
export interface ToolState {
  canUndo: boolean;
  canRedo: boolean;
  painted: boolean;
  loaded: boolean;
}

const TOOLS: [Tool, string, string][] = [
  ["brush", "Brush", "Brush (B)"],
  ["eraser", "Eraser", "Eraser (E)"],
  ["rect", "Rectangle", "Rectangle selection (R; Alt subtracts)"],
  ["lasso", "Lasso", "Lasso, freehand and filled (L; Alt subtracts)"],
  ["wand", "Wand", "Magic wand: the similar colours around a click (W; Alt subtracts)"],
];

function slider(role: string, min: number, max: number, step: number, value: number): HTMLInputElement {
  const input = h("input", { attrs: { type: "range", min, max, step, value, "data-role": role } });
  input.id = uid(role);
  return input;
}

export class MaskTools {
  readonly el: HTMLElement;
  tool: Tool = "brush";
  layer: Layer = "mask";
  private readonly toolBtns = new Map<Tool, HTMLButtonElement>();
  private readonly layerBtns = new Map<Layer, HTMLButtonElement>();
  private readonly layers: HTMLElement;
  private readonly size = slider("brush-size", 1, 200, 1, 40);
  private readonly sizeOut = h("output", { class: "iw-brush-size" });
  private readonly tol = slider("wand-tolerance", 0, 255, 1, 32);
  private readonly tolOut = h("output", { class: "iw-brush-size" });
  private readonly tolWrap: HTMLElement;
  private readonly colourInput = h("input", { attrs: { type: "color", value: "#e53935", "data-role": "markup-colour", title: "Markup colour" } });
  private readonly colourWrap: HTMLElement;
  private readonly opacityInput = slider("overlay-opacity", 0, 100, 5, 55);
  private readonly zoomOut = h("output", { class: "iw-zoom-level", attrs: { "data-role": "zoom-level" } });
  readonly keys;
  private readonly buttons: Record<EditCommand, HTMLButtonElement> = {
    undo: button("Undo", { attrs: { "data-action": "undo", title: "Undo (Ctrl+Z)" } }),
    redo: button("Redo", { attrs: { "data-action": "redo", title: "Redo (Ctrl+Shift+Z / Ctrl+Y)" } }),
    clear: button("Clear", { attrs: { "data-action": "clear", title: "Remove the whole mask (or markup)" } }),
    invert: button("Invert", { attrs: { "data-action": "invert", title: "Swap painted and unpainted areas" } }),
  };

  constructor(
    ctx: Ctx,
    private readonly events: ToolEvents,
  ) {
    for (const [tool, label, title] of TOOLS) {
      const b = button(label, { class: "iw-tool", attrs: { "aria-pressed": "false", "data-action": tool, title } });
      ctx.listen(b, "click", () => this.setTool(tool));
      this.toolBtns.set(tool, b);
    }
    for (const [layer, label] of [["mask", "Mask"], ["markup", "Markup"]] as [Layer, string][]) {
      const b = button(label, { class: "iw-tool", attrs: { "aria-pressed": String(layer === "mask"), "data-layer": layer } });
      ctx.listen(b, "click", () => events.layer(layer));
      this.layerBtns.set(layer, b);
    }
    this.layers = h("div", { class: "iw-seg iw-layers", attrs: { role: "group", "aria-label": "Draw on" } }, [...this.layerBtns.values()]);
    this.layers.hidden = true;
    this.tolWrap = h("span", { class: "iw-tool-opt" }, [
      h("label", { class: "iw-slider", attrs: { for: this.tol.id }, text: "Tolerance" }), this.tol, this.tolOut,
    ]);
    this.colourInput.id = uid("markup-colour");
    this.colourWrap = h("span", { class: "iw-tool-opt" }, [
      h("label", { class: "iw-slider", attrs: { for: this.colourInput.id }, text: "Colour" }), this.colourInput,
    ]);
    this.keys = shortcutsPopover(ctx);
    const zoomBtn = (label: string, to: "in" | "out" | "fit" | "actual", title: string): HTMLButtonElement => {
      // Only the symbols get a spoken name; "Fit" and "100%" say what they are.
      const named = label.length === 1 ? title : null;
      const b = button(label, { class: "iw-zoom-btn", attrs: { "data-action": `zoom-${to}`, title, "aria-label": named } });
      ctx.listen(b, "click", () => events.zoom(to));
      return b;
    };
    this.el = h("div", { class: "iw-mask-toolbar", attrs: { role: "toolbar", "aria-label": "Mask tools" } }, [
      this.layers,
      h("div", { class: "iw-seg iw-tools" }, [...this.toolBtns.values()]),
      h("span", { class: "iw-tool-opt" }, [
        h("label", { class: "iw-slider", attrs: { for: this.size.id }, text: "Size" }), this.size, this.sizeOut,
      ]),
      this.tolWrap,
      this.colourWrap,
      h("span", { class: "iw-tool-opt" }, [
        h("label", { class: "iw-slider", attrs: { for: this.opacityInput.id }, text: "Overlay" }), this.opacityInput,
      ]),
      h("span", { class: "iw-seg iw-zoom", attrs: { role: "group", "aria-label": "Zoom" } }, [
        zoomBtn("−", "out", "Zoom out (−)"), this.zoomOut, zoomBtn("+", "in", "Zoom in (+)"),
        zoomBtn("Fit", "fit", "Fit the image (0)"), zoomBtn("100%", "actual", "Actual pixels (1)"),
      ]),
      h("span", { class: "iw-toolbar-gap" }),
      ...Object.values(this.buttons),
      this.keys.button,
      this.keys.el,
    ]);
    ctx.listen(this.size, "input", () => this.setBrush(this.brush));
    ctx.listen(this.tol, "input", () => this.showTolerance());
    ctx.listen(this.opacityInput, "input", () => this.emitOpacity());
    for (const [command, b] of Object.entries(this.buttons)) ctx.listen(b, "click", () => events.command(command as EditCommand));
  }

  /** Announce the initial tool, size and opacity. */
  start(): void {
    this.emitOpacity();
    this.setTool("brush");
    this.setBrush(this.brush);
    this.showTolerance();
    this.showLayer("mask");
  }

  get brush(): number {
    return Number(this.size.value);
  }
  get tolerance(): number {
    return Number(this.tol.value);
  }
  get colour(): number {
    return colourPixel(this.colourInput.value);
  }

  setBrush(v: number): void {
    const max = Number(this.size.max);
    this.size.value = String(Math.max(1, Math.min(max, Math.round(v))));
    this.sizeOut.textContent = `${this.size.value} px`;
    this.events.brush(this.brush);
  }

  private showTolerance(): void {
    this.tolOut.textContent = this.tol.value;
  }

  setTool(tool: Tool): void {
    this.tool = tool;
    for (const [t, b] of this.toolBtns) b.setAttribute("aria-pressed", String(t === tool));
    this.tolWrap.hidden = tool !== "wand" || this.layer === "markup";
    this.events.tool(tool);
  }

  /** Show which layer is drawn on; markup offers only brush and eraser, and a colour. */
  showLayer(layer: Layer): void {
    this.layer = layer;
    for (const [l, b] of this.layerBtns) b.setAttribute("aria-pressed", String(l === layer));
    for (const t of ["rect", "lasso", "wand"] as Tool[]) (this.toolBtns.get(t) as HTMLButtonElement).hidden = layer === "markup";
    this.buttons.invert.hidden = layer === "markup";
    this.colourWrap.hidden = layer !== "markup";
    if (layer === "markup" && this.tool !== "eraser") this.setTool("brush");
    else this.setTool(this.tool);
  }

  /** The layer switch is offered only when the model takes markup. */
  offerMarkup(offered: boolean): void {
    this.layers.hidden = !offered;
  }

  showZoom(scale: number): void {
    this.zoomOut.textContent = `${Math.round(scale * 100)}%`;
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

  refresh(s: ToolState): void {
    this.buttons.undo.disabled = !s.canUndo;
    this.buttons.redo.disabled = !s.canRedo;
    this.buttons.clear.disabled = !s.painted;
    this.buttons.invert.disabled = !s.loaded;
  }
}
