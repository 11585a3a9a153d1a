// The magic wand: the 4-connected region of pixels whose colour is within `tolerance` of the clicked
// pixel's (each of R, G and B differs by at most `tolerance`, 0–255; alpha is ignored). A scanline
// flood fill, so a 3840×2160 photo is one pass with a small stack. Pure: no DOM.

/** Indices of the region around (sx, sy) in RGBA pixels of a width × height image. */
export function wandRegion(
  rgba: ArrayLike<number>, width: number, height: number, sx: number, sy: number, tolerance: number,
): Uint32Array {
  if (sx < 0 || sy < 0 || sx >= width || sy >= height) return new Uint32Array(0);
  const seen = new Uint8Array(width * height);
  const s = (sy * width + sx) * 4;
  const r0 = rgba[s] as number;
  const g0 = rgba[s + 1] as number;
  const b0 = rgba[s + 2] as number;
  const t = Math.max(0, tolerance);
  const like = (i: number): boolean => {
    const p = i * 4;
    return (
      Math.abs((rgba[p] as number) - r0) <= t &&
      Math.abs((rgba[p + 1] as number) - g0) <= t &&
      Math.abs((rgba[p + 2] as number) - b0) <= t
    );
  };
  const out: number[] = [];
  const stack: number[] = [sx, sy];
  while (stack.length) {
    const y = stack.pop() as number;
    const x = stack.pop() as number;
    const row = y * width;
    if (seen[row + x] || !like(row + x)) continue;
    let l = x;
    while (l > 0 && !seen[row + l - 1] && like(row + l - 1)) l--;
    let r = x;
    while (r < width - 1 && !seen[row + r + 1] && like(row + r + 1)) r++;
    for (let k = l; k <= r; k++) {
      seen[row + k] = 1;
      out.push(row + k);
    }
    // Seed the rows above and below once per run of matching pixels.
    for (const ny of [y - 1, y + 1]) {
      if (ny < 0 || ny >= height) continue;
      const nrow = ny * width;
      let inRun = false;
      for (let k = l; k <= r; k++) {
        const ok = !seen[nrow + k] && like(nrow + k);
        if (ok && !inRun) stack.push(k, ny);
        inRun = ok;
      }
    }
  }
  return Uint32Array.from(out);
}
