/**
 * A network's weights in a file: JSON with the architecture (each layer's name and parameter shapes), the
 * parameters as float32 little-endian bytes in base64, a SHA-256 checksum of both, and free-form
 * provenance (how the weights were made). Loading goes into a network built by code (e.g. `lenet5()`):
 * the file's architecture must be that network's, layer by layer, or the error names the first mismatch.
 */
import * as fs from "fs";
import { createHash } from "crypto";
import * as tf from "@tensorflow/tfjs";
import { Network } from "./network";

export const WEIGHTS_FORMAT = "backprop-lab weights";
export const WEIGHTS_VERSION = 1;

/** What a file records about the network it came from. */
export interface Architecture {
  inputShape: number[];
  outputSize: number;
  /** The loss head, e.g. "softmax + crossEntropy". */
  head: string;
  layers: { name: string; params: Record<string, number[]> }[];
}

export interface WeightsFile {
  format: typeof WEIGHTS_FORMAT;
  version: number;
  architecture: Architecture;
  /** Every parameter in layer order (the names of `architecture`), float32 little-endian, base64. */
  weights: string;
  /** SHA-256 (hex) of JSON.stringify(architecture) + "\n" + weights. */
  sha256: string;
  provenance?: Record<string, unknown>;
}

/** The architecture of `net` as a file records it. */
export function architectureOf(net: Network): Architecture {
  return {
    inputShape: [...net.inputShape],
    outputSize: net.outputSize,
    head: net.head.name,
    layers: net.layers.map((l) => ({ name: l.name, params: Object.fromEntries(Object.entries(l.params).map(([n, v]) => [n, [...v.shape]])) })),
  };
}

/** The checksum of a file's contents. */
export function weightsChecksum(architecture: Architecture, weights: string): string {
  return createHash("sha256").update(JSON.stringify(architecture) + "\n" + weights).digest("hex");
}

/** `net`'s weights (all of them, frozen too) with its architecture, checksum and provenance. */
export function weightsToJson(net: Network, provenance?: Record<string, unknown>): WeightsFile {
  const vars = Object.values(net.allParams);
  const flat = new Float32Array(vars.reduce((s, v) => s + v.size, 0));
  let at = 0;
  for (const v of vars) {
    flat.set(v.dataSync() as Float32Array, at);
    at += v.size;
  }
  const architecture = architectureOf(net);
  const weights = Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength).toString("base64");
  return { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, architecture, weights, sha256: weightsChecksum(architecture, weights), ...(provenance ? { provenance } : {}) };
}

/** Writes `net`'s weights to `file` (see weightsToJson). */
export function saveWeights(net: Network, file: string, provenance?: Record<string, unknown>): WeightsFile {
  const json = weightsToJson(net, provenance);
  fs.writeFileSync(file, JSON.stringify(json, null, 1) + "\n");
  return json;
}

/** Reads and verifies a weights file (format, version, checksum); the error says what is wrong with it. */
export function readWeightsFile(file: string): WeightsFile {
  if (!fs.existsSync(file)) throw new Error(`readWeightsFile: ${file} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`readWeightsFile: ${file} is not valid JSON (${(e as Error).message}); the file is damaged: re-create it (data/pretrained: npm run pretrain)`);
  }
  return checkWeightsJson(json, file);
}

/** Verifies parsed JSON as a weights file; `where` names it in errors. */
export function checkWeightsJson(json: unknown, where = "the weights"): WeightsFile {
  const w = json as WeightsFile;
  if (typeof w !== "object" || w === null || w.format !== WEIGHTS_FORMAT) {
    throw new Error(`${where} is not a backprop-lab weights file (no "format": "${WEIGHTS_FORMAT}"); write one with bp.nn.saveWeights(net, file)`);
  }
  if (w.version !== WEIGHTS_VERSION) throw new Error(`${where} has format version ${w.version}; this library reads version ${WEIGHTS_VERSION}`);
  if (typeof w.weights !== "string" || typeof w.architecture !== "object" || !Array.isArray(w.architecture?.layers)) {
    throw new Error(`${where} lacks its weights or its architecture; the file is damaged: re-create it`);
  }
  const sum = weightsChecksum(w.architecture, w.weights);
  if (sum !== w.sha256) {
    throw new Error(`${where}: checksum mismatch (recorded ${String(w.sha256).slice(0, 12)}…, contents give ${sum.slice(0, 12)}…): the file was changed or damaged; re-create it (data/pretrained: npm run pretrain)`);
  }
  return w;
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}

/** The first difference between a file's architecture and a network's, in words (undefined when they agree). */
export function architectureMismatch(file: Architecture, net: Architecture): string | undefined {
  if (file.layers.length !== net.layers.length) {
    return `the file has ${file.layers.length} layers (${file.layers.map((l) => l.name).join(" → ")}), the network ${net.layers.length} (${net.layers.map((l) => l.name).join(" → ")})`;
  }
  if (shapeText(file.inputShape) !== shapeText(net.inputShape)) return `the file's input is ${shapeText(file.inputShape)}, the network's ${shapeText(net.inputShape)}`;
  for (let k = 0; k < file.layers.length; k++) {
    const a = file.layers[k], b = net.layers[k];
    const same = a.name === b.name && JSON.stringify(a.params) === JSON.stringify(b.params);
    if (!same) {
      const shapes = (l: typeof a) => Object.entries(l.params).map(([n, s]) => `${n} ${shapeText(s)}`).join(", ") || "no parameters";
      return `layer ${k}: the file has ${a.name} (${shapes(a)}), the network ${b.name} (${shapes(b)})`;
    }
  }
  if (file.head !== net.head) return `the file's loss head is ${file.head}, the network's ${net.head}`;
  return undefined;
}

/**
 * Loads weights (a file path or a parsed file) into `net`, which must have the file's architecture.
 * Returns the file's provenance.
 */
export function loadWeights(net: Network, source: string | WeightsFile): Record<string, unknown> | undefined {
  const where = typeof source === "string" ? source : "the weights";
  const w = typeof source === "string" ? readWeightsFile(source) : checkWeightsJson(source, where);
  const why = architectureMismatch(w.architecture, architectureOf(net));
  if (why) throw new Error(`loadWeights: ${where} does not fit this network: ${why}. Build the network the file was saved from.`);
  const bytes = Buffer.from(w.weights, "base64");
  const vars = Object.values(net.allParams);
  const total = vars.reduce((s, v) => s + v.size, 0);
  if (bytes.length !== 4 * total) throw new Error(`loadWeights: ${where} holds ${bytes.length / 4} numbers, the network has ${total} parameters; the file is damaged`);
  const flat = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  let at = 0;
  for (const v of vars) {
    const values = flat.subarray(at, at + v.size);
    tf.tidy(() => v.assign(tf.tensor(values, v.shape, "float32")));
    at += v.size;
  }
  return w.provenance;
}
