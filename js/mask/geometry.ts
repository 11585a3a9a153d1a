// Exact integer pixel geometry shared by the mask and the markup layers: discs and capsules (a disc
// swept along a segment), polygons and rectangles as row spans. Pure: no DOM, no canvas.
//
// A pixel (x, y) is in a brush of diameter D centred at integer (cx, cy) when
// 4·((x−cx)² + (y−cy)²) ≤ D², and in a stroke segment when its distance to the segment is ≤ D/2.
// A polygon (lasso) holds the pixels whose centre (x, y) is inside it (even–odd rule, each row
// half-open at the right) plus its outline, so a lasso always keeps what it was drawn over.
/** Inclusive pixel bounds. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Long segments are split so the integer products stay far below 2^53. */
const MAX_SEGMENT = 1024;

/** Called for each pixel index; `x0..x1` bounds are reported once per shape through `bounds`. */
export type Visit = (i: number) => void;
export type Bounds = (x0: number, y0: number, x1: number, y1: number) => void;

/** Every pixel of a W × H image within d/2 of the segment a–b (a disc when a = b). */
export function segmentPixels(
  W: number, H: number, ax: number, ay: number, bx: number, by: number, d: number, visit: Visit, bounds: Bounds,
): void {
  const len = Math.hypot(bx - ax, by - ay);
  if (len <= MAX_SEGMENT) {
    capsulePixels(W, H, ax, ay, bx, by, d, visit, bounds);
    return;
  }
  const parts = Math.ceil(len / MAX_SEGMENT);
  let px = ax;
  let py = ay;
  for (let k = 1; k <= parts; k++) {
    const qx = k === parts ? bx : Math.round(ax + ((bx - ax) * k) / parts);
    const qy = k === parts ? by : Math.round(ay + ((by - ay) * k) / parts);
    capsulePixels(W, H, px, py, qx, qy, d, visit, bounds);
    px = qx;
    py = qy;
  }
}

function capsulePixels(
  W: number, H: number, ax: number, ay: number, bx: number, by: number, d: number, visit: Visit, bounds: Bounds,
): void {
  const r = d / 2;
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r));
  const x1 = Math.min(W - 1, Math.ceil(Math.max(ax, bx) + r));
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r));
  const y1 = Math.min(H - 1, Math.ceil(Math.max(ay, by) + r));
  if (x0 > x1 || y0 > y1) return;
  const d2 = d * d;
  const dx = bx - ax;
  const dy = by - ay;
  const L2 = dx * dx + dy * dy;
  const d2L2 = d2 * L2;
  for (let y = y0; y <= y1; y++) {
    const py = y - ay;
    const qy = y - by;
    const row = y * W;
    for (let x = x0; x <= x1; x++) {
      const px = x - ax;
      const pp = px * px + py * py;
      let inside: boolean;
      if (L2 === 0) inside = 4 * pp <= d2;
      else {
        const dot = px * dx + py * dy;
        if (dot <= 0) inside = 4 * pp <= d2;
        else if (dot >= L2) {
          const qx = x - bx;
          inside = 4 * (qx * qx + qy * qy) <= d2;
        } else inside = 4 * (pp * L2 - dot * dot) <= d2L2;
      }
      if (inside) visit(row + x);
    }
  }
  bounds(x0, y0, x1, y1);
}

/** Row spans [x0, x1] (inclusive) of the rectangle with corners a and b, clipped to the image. */
export function rectSpans(
  W: number, H: number, ax: number, ay: number, bx: number, by: number, span: (y: number, x0: number, x1: number) => void,
): void {
  const x0 = Math.max(0, Math.min(ax, bx));
  const x1 = Math.min(W - 1, Math.max(ax, bx));
  const y0 = Math.max(0, Math.min(ay, by));
  const y1 = Math.min(H - 1, Math.max(ay, by));
  if (x0 > x1) return;
  for (let y = y0; y <= y1; y++) span(y, x0, x1);
}

/**
 * Row spans of the inside of a closed polygon (points as x0, y0, x1, y1, …), even–odd rule, pixel
 * centres at integer coordinates: a pixel is in when xa ≤ x < xb for a crossing pair (xa, xb) of its
 * row. The outline is not included (callers add it with segmentPixels, diameter 1).
 */
export function polygonSpans(
  W: number, H: number, pts: ArrayLike<number>, span: (y: number, x0: number, x1: number) => void,
): void {
  const n = pts.length >> 1;
  if (n < 3) return;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let k = 0; k < n; k++) {
    const y = pts[2 * k + 1] as number;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const ys = Math.max(0, Math.ceil(minY));
  const ye = Math.min(H - 1, Math.floor(maxY));
  const xs: number[] = [];
  for (let y = ys; y <= ye; y++) {
    xs.length = 0;
    for (let k = 0; k < n; k++) {
      const ax = pts[2 * k] as number;
      const ay = pts[2 * k + 1] as number;
      const j = (k + 1) % n;
      const bx = pts[2 * j] as number;
      const by = pts[2 * j + 1] as number;
      // Half-open in y so a vertex shared by two edges is counted once.
      if ((ay <= y && by > y) || (by <= y && ay > y)) xs.push(ax + ((y - ay) * (bx - ax)) / (by - ay));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const x0 = Math.max(0, Math.ceil(xs[k] as number));
      const x1 = Math.min(W - 1, Math.ceil(xs[k + 1] as number) - 1);
      if (x0 <= x1) span(y, x0, x1);
    }
  }
}

/** The bounds of what changed since they were last taken, so a redraw covers only that. */
export class DirtyArea {
  private rect: Rect | null = null;

  /** Grow to include x0..x1, y0..y1 (inclusive). A bound function: pass it where a `Bounds` is wanted. */
  readonly add: Bounds = (x0, y0, x1, y1) => {
    const d = this.rect;
    if (!d) this.rect = { x0, y0, x1, y1 };
    else {
      d.x0 = Math.min(d.x0, x0);
      d.y0 = Math.min(d.y0, y0);
      d.x1 = Math.max(d.x1, x1);
      d.y1 = Math.max(d.y1, y1);
    }
  };

  /** The changed area (null: nothing), and forget it. */
  take(): Rect | null {
    const d = this.rect;
    this.rect = null;
    return d;
  }
}
