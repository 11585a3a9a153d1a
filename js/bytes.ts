// Byte helpers with no DOM: views of host-delivered bytes, equality, hashing, image type sniffing and
// ids. Kept apart from dom.ts so the mask code (and its unit tests) can use them outside a browser.

const EMPTY = new Uint8Array(0);

/**
 * A byte view of whatever a host hands us for a Bytes trait or buffer: ipywidgets gives a DataView
 * that may start at a non-zero byteOffset inside a bigger buffer, other hosts give typed arrays or
 * ArrayBuffers. The view never copies and always respects byteOffset/byteLength.
 */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return EMPTY;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** FNV-1a over the bytes plus the length: cheap identity for "is this the same image again". */
export function hashBytes(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.byteLength; i++) {
    hash ^= bytes[i] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return `${bytes.byteLength}:${(hash >>> 0).toString(16)}`;
}

/** The image type from magic bytes (thumbnails carry no mime type). */
export function sniffMime(bytes: Uint8Array): string {
  const b = (i: number): number => bytes[i] ?? -1;
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return "image/png";
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return "image/jpeg";
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46) return "image/gif";
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45) {
    return "image/webp";
  }
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart();
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "image/svg+xml";
  return "image/png";
}

/** A reply's mime type when it names an image type; otherwise what the bytes look like. */
export function imageMime(declared: string | null | undefined, bytes: Uint8Array): string {
  return declared && declared.startsWith("image/") ? declared : sniffMime(bytes);
}

/** A Blob holding exactly the view's bytes (not the whole underlying buffer). */
export function blobOf(bytes: Uint8Array, mime?: string): Blob {
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime ?? sniffMime(bytes) });
}

export function randomId(prefix: string): string {
  const c = globalThis.crypto as Crypto | undefined;
  const rand = c && typeof c.randomUUID === "function" ? c.randomUUID() : Math.random().toString(36).slice(2);
  return `${prefix}-${rand}`;
}
