/**
 * Seeded random numbers for reproducible experiments.
 *
 * One generator (`Rng`, the small and fast sfc32) feeds plain numbers and tfjs tensors alike: tensors are
 * filled from JS numbers, so the same seed gives the same values on every backend.
 * `seed(n)` resets the module-wide generator that the library uses when no `rng` is passed.
 */
import * as tf from "@tensorflow/tfjs";

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number, got ${seed}`);
    // splitmix32 spreads the seed over the four words of state.
    let s = Math.floor(seed) >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    return (this.uint32() * 2 ** 21 + (this.uint32() >>> 11)) / 2 ** 53;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.random();
  }

  /** Uniform integer in [lo, hi) (hi exclusive), like NumPy's randint. */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new Error(`Rng.int needs lo < hi, got [${lo}, ${hi})`);
    return lo + Math.floor(this.random() * (hi - lo));
  }

  /** Normal N(mean, std²) by the Box–Muller transform (the second value is kept for the next call). */
  normal(mean = 0, std = 1): number {
    let z: number;
    if (this.spare !== undefined) {
      z = this.spare;
      this.spare = undefined;
    } else {
      let u = 0;
      while (u === 0) u = this.random();
      const v = this.random();
      const r = Math.sqrt(-2 * Math.log(u));
      z = r * Math.cos(2 * Math.PI * v);
      this.spare = r * Math.sin(2 * Math.PI * v);
    }
    return mean + std * z;
  }

  /** Bernoulli draw: 1 with probability p, else 0. */
  bernoulli(p: number): number {
    return this.random() < p ? 1 : 0;
  }

  /** Fills a new Float64Array of length n with draws of `draw`. */
  array(n: number, draw: (r: Rng) => number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = draw(this);
    return out;
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** A new generator seeded from this one: independent streams for sub-experiments. */
  fork(): Rng {
    return new Rng(this.uint32());
  }

  /** Tensor of shape `shape` with N(mean, std²) entries. */
  normalTensor(shape: number[], mean = 0, std = 1): tf.Tensor {
    return tf.tensor(Float32Array.from(this.array(size(shape), (r) => r.normal(mean, std))), shape);
  }

  /** Tensor of shape `shape` with U[lo, hi) entries. */
  uniformTensor(shape: number[], lo = 0, hi = 1): tf.Tensor {
    return tf.tensor(Float32Array.from(this.array(size(shape), (r) => r.uniform(lo, hi))), shape);
  }
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

let shared = new Rng(0);

/** Resets the module-wide generator: call once at the top of a notebook or experiment. */
export function seed(n: number): Rng {
  shared = new Rng(n);
  return shared;
}

/** The module-wide generator (seeded by `seed`, 0 by default). */
export function rng(): Rng {
  return shared;
}
