// Zoom and pan gestures on the mask viewport: Ctrl/⌘ + wheel zooms at the pointer, space + drag and
// the middle button pan, two fingers pinch-zoom and pan together (a stroke the first finger began is
// put back). They run in the capture phase so the painting tools never see a gesture's pointers.

import type { Ctx } from "../ctx";
import type { MaskStage } from "./stage";
import { pinchScale, wheelScale } from "./zoom";

interface Pan {
  pointerId: number;
  x: number;
  y: number;
}

export class Gestures {
  /** Space is held: a drag pans. */
  spaceHeld = false;
  private pan: Pan | null = null;
  private readonly touches = new Map<number, { x: number; y: number }>();
  private pinch: { d0: number; s0: number; mx: number; my: number } | null = null;
  private wheelFrame = 0;
  private pendingScale: { s: number; px: number; py: number } | null = null;

  constructor(
    ctx: Ctx,
    private readonly stage: MaskStage,
    /** A second finger arrived: drop the stroke the first one began. */
    private readonly cancelStroke: () => void,
  ) {
    const el = stage.el;
    const capture = { capture: true };
    ctx.listen<WheelEvent>(el, "wheel", (e) => this.wheel(e), { passive: false });
    ctx.listen<PointerEvent>(el, "pointerdown", (e) => this.down(e), capture);
    ctx.listen<PointerEvent>(el, "pointermove", (e) => this.move(e), capture);
    for (const type of ["pointerup", "pointercancel"]) ctx.listen<PointerEvent>(el, type, (e) => this.up(e), capture);
    ctx.signal.addEventListener("abort", () => cancelAnimationFrame(this.wheelFrame));
  }

  /** True while a pan or a pinch owns the pointers. */
  busy(): boolean {
    return !!this.pan || !!this.pinch;
  }

  private wheel(e: WheelEvent): void {
    if (!(e.ctrlKey || e.metaKey) || !this.stage.edits) return;
    e.preventDefault();
    const p = this.stage.local(e.clientX, e.clientY);
    const base = this.pendingScale?.s ?? this.stage.scale;
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    this.pendingScale = { s: wheelScale(base, delta), px: p.x, py: p.y };
    // One zoom per frame, however many wheel events arrive.
    if (!this.wheelFrame) {
      this.wheelFrame = requestAnimationFrame(() => {
        this.wheelFrame = 0;
        const z = this.pendingScale;
        this.pendingScale = null;
        if (z) this.stage.zoomLive(z.s, z.px, z.py);
      });
    }
  }

  private down(e: PointerEvent): void {
    if (!this.stage.edits) return;
    if (e.pointerType === "touch") {
      this.touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this.touches.size === 2) {
        this.cancelStroke();
        this.startPinch();
        e.stopPropagation();
      }
      return;
    }
    if (this.spaceHeld || (e.pointerType === "mouse" && e.button === 1)) {
      e.preventDefault();
      e.stopPropagation();
      this.pan = { pointerId: e.pointerId, x: e.clientX, y: e.clientY };
      this.stage.el.classList.add("iw-panning");
      try {
        this.stage.el.setPointerCapture(e.pointerId);
      } catch {
        // gone already: the pan still follows moves over the viewport
      }
    }
  }

  private startPinch(): void {
    const [a, b] = [...this.touches.values()] as [{ x: number; y: number }, { x: number; y: number }];
    const m = this.stage.local((a.x + b.x) / 2, (a.y + b.y) / 2);
    this.pinch = { d0: Math.hypot(a.x - b.x, a.y - b.y), s0: this.stage.scale, mx: m.x, my: m.y };
  }

  private move(e: PointerEvent): void {
    if (this.pan && e.pointerId === this.pan.pointerId) {
      e.stopPropagation();
      this.stage.pan(this.pan.x - e.clientX, this.pan.y - e.clientY);
      this.pan.x = e.clientX;
      this.pan.y = e.clientY;
      return;
    }
    if (!this.touches.has(e.pointerId)) return;
    this.touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
    const p = this.pinch;
    if (!p || this.touches.size < 2) return;
    e.stopPropagation();
    const [a, b] = [...this.touches.values()] as [{ x: number; y: number }, { x: number; y: number }];
    const m = this.stage.local((a.x + b.x) / 2, (a.y + b.y) / 2);
    const scale = pinchScale(p.s0, p.d0, Math.hypot(a.x - b.x, a.y - b.y));
    // Zoom around the fingers, then pan by how far their midpoint moved: a transform per move, one
    // layout when the pinch ends.
    this.stage.pinchLive(scale, m.x, m.y, p.mx - m.x, p.my - m.y);
    p.mx = m.x;
    p.my = m.y;
  }

  private up(e: PointerEvent): void {
    if (this.pan && e.pointerId === this.pan.pointerId) {
      e.stopPropagation();
      this.pan = null;
      this.stage.el.classList.remove("iw-panning");
      return;
    }
    if (!this.touches.delete(e.pointerId)) return;
    if (this.pinch) {
      e.stopPropagation();
      if (this.touches.size < 2) {
        this.pinch = null;
        this.stage.commitLive();
      }
    }
  }
}
