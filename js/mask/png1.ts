// The mask as a 1-bit palette PNG: index 0 = RGB 0 / alpha 0 (edit), index 1 = RGB 0 / alpha 255 (keep).
// The same pixels as the RGBA PNG of the wire format, in 1/32 of the raw bytes, so a 3840×2160 mask is
// packed in a few ms and deflated by the browser's CompressionStream instead of a canvas's PNG encoder
// (which spent ~200 ms on the RGBA pixels). The kernel and the page read it as RGBA, like any PNG.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let crcTable: Uint32Array | null = null;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (crcTable[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC of type + data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The scanlines (filter byte 0, then the row's bits, most significant first; 1 = keep). */
export function packRows(bits: Uint8Array, width: number, height: number): Uint8Array {
  const stride = (width + 7) >> 3;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const o = y * (stride + 1) + 1;
    for (let x = 0; x < width; x++) if (!bits[row + x]) raw[o + (x >> 3)] |= 0x80 >> (x & 7);
  }
  return raw;
}

async function deflate(raw: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([raw as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Whether this engine can pack masks this way (CompressionStream: Chromium 80+, Firefox 113+, Safari 16.4+). */
export function canPackMask(): boolean {
  return typeof CompressionStream !== "undefined";
}

/** The mask PNG for `bits` (1 = edit) of a width × height image. */
export async function encodeMask1Bit(bits: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([1, 3, 0, 0, 0], 8); // bit depth 1, palette, deflate, no filter method, no interlace
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk("IHDR", ihdr),
    chunk("PLTE", new Uint8Array(6)), // two entries, both black
    chunk("tRNS", Uint8Array.from([0, 255])), // index 0 transparent (edit), index 1 opaque (keep)
    chunk("IDAT", await deflate(packRows(bits, width, height))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
