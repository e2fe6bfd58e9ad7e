/**
 * The IDX file format (the container of the MNIST files): a decoder with strict checks and its inverse.
 *
 * An IDX file is a magic number 0x0000TTDD (two zero bytes, a type code TT, the number of dimensions DD),
 * DD big-endian uint32 dimensions, then the values in row-major order, big-endian. The downloader
 * (download.ts) and the full-MNIST loader (mnist-full.ts) build on this file.
 */
import * as fs from "fs";
import * as zlib from "zlib";

/** Element types of the IDX format. */
export type IdxType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** Typed array holding IDX values. */
export type IdxValues = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: element type, dimensions and the values in row-major order. */
export interface IdxArray {
  dtype: IdxType;
  shape: number[];
  data: IdxValues;
}

const IDX_CODES: Record<number, { dtype: IdxType; size: number }> = {
  0x08: { dtype: "uint8", size: 1 },
  0x09: { dtype: "int8", size: 1 },
  0x0b: { dtype: "int16", size: 2 },
  0x0c: { dtype: "int32", size: 4 },
  0x0d: { dtype: "float32", size: 4 },
  0x0e: { dtype: "float64", size: 8 },
};

/** Raised for bytes that are not a well-formed IDX file (bad magic number, dimensions or length). */
export class IdxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdxFormatError";
  }
}

/** Options of `parseIdx`. */
export interface ParseIdxOptions {
  /** Name used in error messages (a file name or URL). */
  source?: string;
  /** Expected element type. */
  dtype?: IdxType;
  /** Expected dimensions; `null` accepts any size on that axis (e.g. [null, 28, 28]). */
  shape?: (number | null)[];
}

function hex32(b: Uint8Array): string {
  return "0x" + Array.from(b.subarray(0, 4), (v) => v.toString(16).padStart(2, "0")).join("");
}

/**
 * Decodes an IDX file (gzip-compressed or raw; gzip is recognised by its first two bytes). Checks the
 * magic number (two zero bytes, a type code, the number of dimensions), that the data length is exactly
 * the product of the dimensions, and the expected type and shape when given. Multi-byte values are
 * big-endian in IDX and come back as native typed arrays.
 */
export function parseIdx(bytes: Uint8Array, opts: ParseIdxOptions = {}): IdxArray {
  const src = opts.source ?? "IDX data";
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new IdxFormatError(
        `${src}: the gzip stream is truncated or corrupt (${(e as Error).message}); delete the file and download it again`,
      );
    }
  }
  if (buf.length < 4) throw new IdxFormatError(`${src}: only ${buf.length} bytes, too short to be an IDX file`);
  const code = IDX_CODES[buf[2]];
  const ndim = buf[3];
  if (buf[0] !== 0 || buf[1] !== 0 || !code || ndim < 1) {
    throw new IdxFormatError(
      `${src} is not an IDX file: magic number ${hex32(buf)} (expected 0x0000TTDD: two zero bytes, a type code ` +
        `08/09/0b/0c/0d/0e and the number of dimensions, e.g. 0x00000803 for MNIST images, 0x00000801 for labels)`,
    );
  }
  const header = 4 + 4 * ndim;
  if (buf.length < header) {
    throw new IdxFormatError(`${src}: header says ${ndim} dimensions but the file ends after ${buf.length} bytes`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = header + count * code.size;
  if (buf.length !== expected) {
    const what = buf.length < expected ? "truncated" : "has trailing bytes";
    throw new IdxFormatError(
      `${src} ${what}: dimensions [${shape.join(", ")}] of ${code.dtype} need ${expected} bytes, got ${buf.length}`,
    );
  }
  if (opts.dtype && opts.dtype !== code.dtype) {
    throw new IdxFormatError(`${src}: holds ${code.dtype} values, expected ${opts.dtype}`);
  }
  if (opts.shape) {
    const want = opts.shape;
    const ok = want.length === shape.length && want.every((w, i) => w === null || w === shape[i]);
    if (!ok) {
      const fmt = want.map((w) => (w === null ? "any" : String(w))).join(", ");
      throw new IdxFormatError(`${src}: dimensions [${shape.join(", ")}], expected [${fmt}]`);
    }
  }
  let data: IdxValues;
  switch (code.dtype) {
    // Copies (not views): a Buffer's slice() shares memory, and may share it with a pooled buffer.
    case "uint8":
      data = new Uint8Array(buf.subarray(header, expected));
      break;
    case "int8":
      data = new Int8Array(new Int8Array(buf.buffer, buf.byteOffset + header, count));
      break;
    default: {
      const read = {
        int16: (o: number) => view.getInt16(o, false),
        int32: (o: number) => view.getInt32(o, false),
        float32: (o: number) => view.getFloat32(o, false),
        float64: (o: number) => view.getFloat64(o, false),
      }[code.dtype];
      const Ctor = { int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[code.dtype];
      data = new Ctor(count);
      for (let i = 0; i < count; i++) data[i] = read(header + i * code.size);
    }
  }
  return { dtype: code.dtype, shape, data };
}

/** Reads and decodes an IDX file from disk (gzip or raw), with the checks of `parseIdx`. */
export function readIdxFile(file: string, opts: ParseIdxOptions = {}): IdxArray {
  return parseIdx(fs.readFileSync(file), { source: file, ...opts });
}

/**
 * Encodes values as an IDX file (optionally gzip-compressed): the inverse of `parseIdx`.
 * Handy for writing small test sets or exporting data for other tools.
 */
export function encodeIdx(arr: IdxArray, opts: { gzip?: boolean } = {}): Buffer {
  const entry = Object.entries(IDX_CODES).find(([, v]) => v.dtype === arr.dtype);
  if (!entry) throw new Error(`encodeIdx: unknown dtype ${arr.dtype}`);
  const [code, { size }] = [Number(entry[0]), entry[1]];
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (arr.data.length !== count) {
    throw new Error(`encodeIdx: shape [${arr.shape.join(", ")}] needs ${count} values, got ${arr.data.length}`);
  }
  const header = 4 + 4 * arr.shape.length;
  const out = Buffer.alloc(header + count * size);
  out[2] = code;
  out[3] = arr.shape.length;
  arr.shape.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < count; i++) {
    const o = header + i * size;
    const v = arr.data[i];
    switch (arr.dtype) {
      case "uint8": view.setUint8(o, v); break;
      case "int8": view.setInt8(o, v); break;
      case "int16": view.setInt16(o, v, false); break;
      case "int32": view.setInt32(o, v, false); break;
      case "float32": view.setFloat32(o, v, false); break;
      case "float64": view.setFloat64(o, v, false); break;
    }
  }
  return opts.gzip ? zlib.gzipSync(out) : out;
}
