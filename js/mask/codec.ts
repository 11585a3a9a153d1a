// The mask's wire format (docs/PROTOCOL.md): a PNG exactly the size of `mask_base`, RGB 0, alpha 0
// where the image should change and 255 elsewhere. Reading one back, alpha below 128 means "change".
// The bit ↔ RGBA conversions are pure; a mask is packed as a 1-bit palette PNG (png1.ts, same pixels),
// other PNG encoding and decoding use the browser's canvas.

import { blobOf } from "../bytes";
import { canPackMask, encodeMask1Bit } from "./png1";

/** RGBA pixels of the mask PNG for `bits` (1 = edit): RGB 0, alpha 0 = edit, 255 = keep. */
export function bitsToRgba(bits: Uint8Array): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(bits.length * 4);
  for (let i = 0; i < bits.length; i++) if (!bits[i]) out[i * 4 + 3] = 255;
  return out;
}

/** Bits (1 = edit) from RGBA pixels: alpha below 128 = edit. */
export function rgbaToBits(rgba: ArrayLike<number>): Uint8Array {
  const bits = new Uint8Array(Math.floor(rgba.length / 4));
  for (let i = 0; i < bits.length; i++) bits[i] = (rgba[i * 4 + 3] as number) < 128 ? 1 : 0;
  return bits;
}

/** PNG bytes of exact RGBA pixels (putImageData does not smooth or blend). */
export async function encodePng(rgba: Uint8ClampedArray<ArrayBuffer>, width: number, height: number): Promise<Uint8Array> {
  const pixels = new ImageData(rgba, width, height);
  let blob: Blob | null;
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    const g = canvas.getContext("2d");
    if (!g) throw new Error("no 2d context");
    g.putImageData(pixels, 0, 0);
    blob = await canvas.convertToBlob({ type: "image/png" });
  } else {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const g = canvas.getContext("2d");
    if (!g) throw new Error("no 2d context");
    g.putImageData(pixels, 0, 0);
    blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  }
  if (!blob) throw new Error("PNG encoding failed");
  return new Uint8Array(await blob.arrayBuffer());
}

/** RGBA pixels of an image, without premultiplication or colour conversion (for reading masks back). */
export async function decodePixels(bytes: Uint8Array): Promise<ImageData> {
  const bitmap = await createImageBitmap(blobOf(bytes), { premultiplyAlpha: "none", colorSpaceConversion: "none" });
  try {
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const g = canvas.getContext("2d", { willReadFrequently: true });
    if (!g) throw new Error("no 2d context");
    g.drawImage(bitmap, 0, 0);
    return g.getImageData(0, 0, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** The mask PNG for `bits` of a width × height image. */
export function encodeMask(bits: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  return canPackMask() ? encodeMask1Bit(bits, width, height) : encodePng(bitsToRgba(bits), width, height);
}

/** The bits of a mask PNG, with its size. */
export async function decodeMask(bytes: Uint8Array): Promise<{ width: number; height: number; bits: Uint8Array }> {
  const pixels = await decodePixels(bytes);
  return { width: pixels.width, height: pixels.height, bits: rgbaToBits(pixels.data) };
}
