// The feather band the kernel blends across (options.feather, px): pixels outside the mask whose
// Euclidean distance to the nearest masked pixel is at most the feather radius. Everything outside
// mask + band stays the original, bit for bit. Exact distance transform (Felzenszwalb & Huttenlocher),
// computed only in the mask's bounding box grown by the radius. Pure: no DOM.

const INF = 1e20;

/** 1-D squared distance transform of f (in place into d), the lower envelope of parabolas. */
function edt1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -INF;
  z[1] = INF;
  for (let q = 1; q < n; q++) {
    let s: number;
    for (;;) {
      const p = v[k] as number;
      s = ((f[q] as number) + q * q - ((f[p] as number) + p * p)) / (2 * q - 2 * p);
      if (s > (z[k] as number)) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = INF;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while ((z[k + 1] as number) < q) k++;
    const p = v[k] as number;
    d[q] = (q - p) * (q - p) + (f[p] as number);
  }
}

/** Bits (1 = in the band) of the feather band of `bits` (1 = masked) for a radius in px. */
export function featherBand(bits: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const band = new Uint8Array(width * height);
  if (radius <= 0) return band;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (!bits[row + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return band;
  const R = Math.ceil(radius);
  x0 = Math.max(0, x0 - R);
  y0 = Math.max(0, y0 - R);
  x1 = Math.min(width - 1, x1 + R);
  y1 = Math.min(height - 1, y1 + R);
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const grid = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) grid[y * w + x] = bits[(y + y0) * width + x + x0] ? 0 : INF;
  }
  const n = Math.max(w, h);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) f[y] = grid[y * w + x] as number;
    edt1d(f, h, d, v, z);
    for (let y = 0; y < h; y++) grid[y * w + x] = d[y] as number;
  }
  const r2 = radius * radius;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) f[x] = grid[y * w + x] as number;
    edt1d(f, w, d, v, z);
    for (let x = 0; x < w; x++) {
      const dist2 = d[x] as number;
      if (dist2 > 0 && dist2 <= r2) band[(y + y0) * width + x + x0] = 1;
    }
  }
  return band;
}
