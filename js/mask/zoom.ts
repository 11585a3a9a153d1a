// Zoom and pan maths for the mask canvas. The stage is a scrolling viewport; the image box inside it
// is the native image × `scale` CSS px, centred while smaller than the viewport. Zooming keeps the
// native pixel under the pointer (or the viewport's centre) where it was. Pure: no DOM.

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 32;
/** The steps `+` and `-` move through (1 = 100%: one native pixel per CSS px). */
export const ZOOM_STEPS = [0.05, 0.1, 0.125, 0.25, 1 / 3, 0.5, 2 / 3, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32];

export interface View {
  /** CSS px per native pixel. */
  scale: number;
  scrollX: number;
  scrollY: number;
  /** Viewport size, CSS px. */
  vw: number;
  vh: number;
  /** Image size, native px. */
  w: number;
  h: number;
}

export function clampScale(s: number): number {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, s));
}

/** The scale that shows the whole image in the viewport. */
export function fitScale(w: number, h: number, vw: number, vh: number): number {
  if (w <= 0 || h <= 0 || vw <= 0 || vh <= 0) return 1;
  return clampScale(Math.min(vw / w, vh / h));
}

/** Where the image box starts in the scrolled content: centred while smaller than the viewport. */
export function offset(content: number, viewport: number): number {
  return Math.max(0, (viewport - content) / 2);
}

/** Largest scroll position for a content of this size. */
function maxScroll(content: number, viewport: number): number {
  return Math.max(0, content - viewport);
}

/** The native pixel coordinate (fractional) under the viewport point (px, py). */
export function viewToNative(v: View, px: number, py: number): { x: number; y: number } {
  const cw = v.w * v.scale;
  const ch = v.h * v.scale;
  return {
    x: (v.scrollX + px - offset(cw, v.vw)) / v.scale,
    y: (v.scrollY + py - offset(ch, v.vh)) / v.scale,
  };
}

/** The view at scale `s`, scrolled so the native point under (px, py) stays under it. */
export function zoomAt(v: View, s: number, px: number, py: number): View {
  const scale = clampScale(s);
  const n = viewToNative(v, px, py);
  const cw = v.w * scale;
  const ch = v.h * scale;
  const sx = n.x * scale + offset(cw, v.vw) - px;
  const sy = n.y * scale + offset(ch, v.vh) - py;
  return {
    ...v,
    scale,
    scrollX: Math.round(Math.min(maxScroll(cw, v.vw), Math.max(0, sx))),
    scrollY: Math.round(Math.min(maxScroll(ch, v.vh), Math.max(0, sy))),
  };
}

/** The view scrolled by (dx, dy) CSS px, kept within the content (what the browser's scroll would do). */
export function panBy(v: View, dx: number, dy: number): View {
  return {
    ...v,
    scrollX: Math.round(Math.min(maxScroll(v.w * v.scale, v.vw), Math.max(0, v.scrollX + dx))),
    scrollY: Math.round(Math.min(maxScroll(v.h * v.scale, v.vh), Math.max(0, v.scrollY + dy))),
  };
}

/** The next zoom step up (dir 1) or down (dir −1) from `s`. */
export function stepScale(s: number, dir: 1 | -1): number {
  const eps = 1e-6;
  if (dir > 0) return ZOOM_STEPS.find((z) => z > s + eps) ?? MAX_SCALE;
  const below = ZOOM_STEPS.filter((z) => z < s - eps);
  return below.length ? (below[below.length - 1] as number) : MIN_SCALE;
}

/** The scale after a Ctrl/⌘ + wheel of `deltaY` CSS px (negative = zoom in). */
export function wheelScale(s: number, deltaY: number): number {
  return clampScale(s * Math.exp(-deltaY * 0.0025));
}

/** The scale after a pinch whose finger distance went from d0 to d1. */
export function pinchScale(s0: number, d0: number, d1: number): number {
  return d0 > 0 ? clampScale((s0 * d1) / d0) : s0;
}
