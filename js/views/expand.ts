// The Expand tool (outpainting): shows the new canvas around the first input image; the person drags
// its edges, types the pixels per side, or picks an aspect with an anchor. Writes options.expand
// ({left, right, top, bottom} px) with mode "expand"; the kernel masks the new area and composites.

import type { Ctx, View } from "../ctx";
import { button, h, uid } from "../dom";
import { ANCHORS, ASPECTS, type Anchor, type Expand, NONE, dragSide, expandToAspect, isNone, parseAspect, readExpand } from "../mask/expand-math";

const SIDES: (keyof Expand)[] = ["left", "right", "top", "bottom"];
const MAX_HEIGHT = 420;
const STEP = 16;
const BIG_STEP = 128;
/** The arrow key that moves each edge outward (the opposite one moves it back in). */
const OUTWARD: Record<keyof Expand, [string, string]> = {
  left: ["ArrowLeft", "ArrowRight"], right: ["ArrowRight", "ArrowLeft"],
  top: ["ArrowUp", "ArrowDown"], bottom: ["ArrowDown", "ArrowUp"],
};

export function renderExpand(ctx: Ctx): View {
  const img = h("img", { class: "iw-expand-image", attrs: { alt: "The image to expand", draggable: "false" } });
  const frame = h("div", { class: "iw-expand-frame", attrs: { "data-role": "expand-frame" } }, [img]);
  const handles = new Map<keyof Expand, HTMLElement>();
  for (const side of SIDES) {
    const el = h("div", {
      class: `iw-expand-handle iw-${side}`,
      attrs: { "data-side": side, role: "slider", tabindex: 0, "aria-label": `Pixels added on the ${side}`,
        "aria-valuemin": 0, "aria-valuenow": 0, title: `Drag, or use the arrow keys (Shift: ${BIG_STEP} px)` },
    });
    handles.set(side, el);
    frame.append(el);
  }
  const stage = h("div", { class: "iw-expand-stage" }, [frame]);
  const anchor = h("select", { attrs: { "data-role": "expand-anchor", "aria-label": "Keep the image at" } });
  for (const a of ANCHORS) anchor.append(h("option", { text: a === "center" ? "centre" : a, attrs: { value: a } }));
  const aspectBtns = ASPECTS.map((a) => button(a, { class: "iw-tool", attrs: { "data-aspect": a, title: `Expand to ${a}` } }));
  const reset = button("Reset", { attrs: { "data-action": "expand-reset" } });
  const inputs = new Map<keyof Expand, HTMLInputElement>();
  const fields = SIDES.map((side) => {
    const input = h("input", { attrs: { type: "number", min: 0, step: 1, value: 0, "data-expand": side } });
    input.id = uid(`expand-${side}`);
    inputs.set(side, input);
    return h("span", { class: "iw-tool-opt" }, [h("label", { attrs: { for: input.id }, text: side }), input]);
  });
  const info = h("p", { class: "iw-mask-info", attrs: { "data-role": "expand-info", "aria-live": "polite" } });
  const headingId = uid("expand");
  const el = h("section", { class: "iw-expand", attrs: { "aria-labelledby": headingId } }, [
    h("div", { class: "iw-section-head" }, [
      h("h3", { text: "Expand", attrs: { id: headingId } }),
      h("span", { class: "iw-hint", text: "drag the edges, or pick an aspect: the new area is painted to match" }),
    ]),
    h("div", { class: "iw-mask-toolbar", attrs: { role: "toolbar", "aria-label": "Expand" } }, [
      h("div", { class: "iw-seg" }, aspectBtns),
      h("label", { class: "iw-slider" }, ["Anchor ", anchor]),
      ...fields,
      reset,
    ]),
    stage,
    info,
  ]);
  el.hidden = true;

  let W = 0;
  let H = 0;
  let url: string | null = null;
  let shownBytes: Uint8Array | null = null;
  /** The amounts shown (while dragging, ahead of the option). */
  let current: Expand = { ...NONE };

  const draw = (): void => {
    if (!W || !H) return;
    const nw = W + current.left + current.right;
    const nh = H + current.top + current.bottom;
    const avail = stage.clientWidth || 600;
    const s = Math.min(avail / nw, MAX_HEIGHT / nh);
    frame.style.width = `${nw * s}px`;
    frame.style.height = `${nh * s}px`;
    Object.assign(img.style, { left: `${current.left * s}px`, top: `${current.top * s}px`, width: `${W * s}px`, height: `${H * s}px` });
    frame.dataset.scale = String(s);
    for (const side of SIDES) {
      const input = inputs.get(side) as HTMLInputElement;
      if (document.activeElement !== input) input.value = String(current[side]);
      handles.get(side)?.setAttribute("aria-valuenow", String(current[side]));
    }
    const added = SIDES.filter((k) => current[k]).map((k) => `+${current[k]} ${k}`).join(", ");
    info.textContent = `${W}×${H} → ${nw}×${nh} px${added ? ` (${added})` : " (drag an edge or pick an aspect)"}`;
    el.dataset.width = String(nw);
    el.dataset.height = String(nh);
  };

  const commit = (e: Expand): void => {
    current = e;
    draw();
    const o = ctx.options();
    if (JSON.stringify(readExpand(o.expand)) === JSON.stringify(e) && o.mode === "expand") return;
    ctx.setOptions({ mode: "expand", expand: isNone(e) ? null : e });
  };

  const sync = (): void => {
    const o = ctx.options();
    const bytes = ctx.bytes("mask_base");
    el.hidden = o.mode !== "expand" || !bytes.byteLength;
    if (el.hidden) return;
    if (shownBytes !== ctx.model.get("mask_base")) {
      shownBytes = ctx.model.get("mask_base") as Uint8Array;
      ctx.revoke(url);
      url = ctx.url(bytes);
      img.src = url;
    }
    current = readExpand(o.expand);
    draw();
  };
  ctx.listen(img, "load", () => {
    W = img.naturalWidth;
    H = img.naturalHeight;
    el.dataset.ready = "1";
    draw();
  });

  for (const b of aspectBtns) {
    ctx.listen(b, "click", () => {
      if (W && H) commit(expandToAspect(W, H, parseAspect(b.dataset.aspect ?? "1:1"), anchor.value as Anchor));
    });
  }
  ctx.listen(reset, "click", () => commit({ ...NONE }));
  for (const [side, input] of inputs) {
    ctx.listen(input, "change", () => commit(dragSide(current, side, Number(input.value) - current[side], W, H)));
  }

  // Dragging an edge: native px = CSS px / the scale when the drag began.
  let drag: { side: keyof Expand; id: number; x: number; y: number; s: number; start: Expand } | null = null;
  for (const [side, handle] of handles) {
    ctx.listen<PointerEvent>(handle, "pointerdown", (e) => {
      if (!W || drag) return;
      e.preventDefault();
      handle.setPointerCapture(e.pointerId);
      drag = { side, id: e.pointerId, x: e.clientX, y: e.clientY, s: Number(frame.dataset.scale) || 1, start: { ...current } };
    });
    ctx.listen<PointerEvent>(handle, "pointermove", (e) => {
      if (!drag || drag.id !== e.pointerId) return;
      const d = drag.side === "left" ? drag.x - e.clientX : drag.side === "right" ? e.clientX - drag.x
        : drag.side === "top" ? drag.y - e.clientY : e.clientY - drag.y;
      current = dragSide(drag.start, drag.side, d / drag.s, W, H);
      draw();
    });
    // The keyboard: arrows move this edge by 16 px (Shift: 128), outward or back; kept inside the widget.
    ctx.listen<KeyboardEvent>(handle, "keydown", (e) => {
      const [out, back] = OUTWARD[side];
      if (!W || (e.key !== out && e.key !== back)) return;
      e.preventDefault();
      e.stopPropagation();
      const step = (e.shiftKey ? BIG_STEP : STEP) * (e.key === out ? 1 : -1);
      commit(dragSide(current, side, step, W, H));
    });
    for (const type of ["pointerup", "pointercancel"]) {
      ctx.listen<PointerEvent>(handle, type, (e) => {
        if (!drag || drag.id !== e.pointerId) return;
        drag = null;
        commit(current);
      });
    }
  }

  const observer = new ResizeObserver(() => draw());
  observer.observe(stage);
  ctx.onChange(["options", "mask_base"], sync);
  sync();
  return { el, cleanup: () => observer.disconnect() };
}
