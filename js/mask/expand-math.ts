// Expand (outpainting) maths: the pixels added on each side of a W × H image, from an aspect and an
// anchor or from dragged edges. The kernel receives them as options.expand. Pure: no DOM.

export interface Expand {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export type Anchor = "center" | "left" | "right" | "top" | "bottom";
export const ASPECTS = ["16:9", "4:3", "1:1", "3:2", "9:16"] as const;
export const ANCHORS: Anchor[] = ["center", "left", "right", "top", "bottom"];
/** Largest amount on one side, as a multiple of the image's size along that axis. */
export const MAX_FACTOR = 2;

export const NONE: Expand = { left: 0, right: 0, top: 0, bottom: 0 };

export function parseAspect(a: string): number {
  const [w, h] = a.split(":").map(Number);
  return w && h ? w / h : 1;
}

/**
 * The smallest expansion that gives the aspect: only the short axis grows. The anchor is where the
 * original stays: "left" keeps it at the left (everything added on the right), "center" splits the
 * amount (the odd pixel goes right / bottom).
 */
export function expandToAspect(w: number, h: number, aspect: number, anchor: Anchor): Expand {
  const out = { ...NONE };
  if (w / h < aspect) {
    const extra = Math.max(0, Math.round(h * aspect) - w);
    if (anchor === "left") out.right = extra;
    else if (anchor === "right") out.left = extra;
    else {
      out.left = Math.floor(extra / 2);
      out.right = extra - out.left;
    }
  } else {
    const extra = Math.max(0, Math.round(w / aspect) - h);
    if (anchor === "top") out.bottom = extra;
    else if (anchor === "bottom") out.top = extra;
    else {
      out.top = Math.floor(extra / 2);
      out.bottom = extra - out.top;
    }
  }
  return out;
}

/** A side dragged by `delta` native px outward (negative = inward), clamped to 0..MAX_FACTOR × size. */
export function dragSide(e: Expand, side: keyof Expand, delta: number, w: number, h: number): Expand {
  const limit = MAX_FACTOR * (side === "left" || side === "right" ? w : h);
  return { ...e, [side]: Math.round(Math.min(limit, Math.max(0, e[side] + delta))) };
}

/** The expand option from whatever the kernel holds (missing, null or partial → zeros). */
export function readExpand(v: unknown): Expand {
  const o = (v && typeof v === "object" ? v : {}) as Record<string, unknown>;
  const n = (k: string): number => (typeof o[k] === "number" && (o[k] as number) > 0 ? Math.round(o[k] as number) : 0);
  return { left: n("left"), right: n("right"), top: n("top"), bottom: n("bottom") };
}

export function isNone(e: Expand): boolean {
  return !e.left && !e.right && !e.top && !e.bottom;
}
