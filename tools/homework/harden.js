"use strict";
/**
 * The grader's hardening of a tslab kernel, run as an unrecorded first cell ("prelude") before any student
 * code: after it, a hand-in cannot rewrite the JavaScript built-ins that the tests (and tslab's own reply
 * path) use, nor hide them from a test by declaring a variable of the same name.
 *
 * 1. Freezes the intrinsics, as Hardened JavaScript's lockdown() does but without its dependency: every
 *    standard global constructor, namespace object (Math, JSON, Reflect, ...), their prototypes and the
 *    hidden ones (iterators, generators, %TypedArray%), walked deeply. The "override mistake" (assigning
 *    `obj.toString = f` on an object whose prototype is frozen throws in strict code) is avoided for the usual
 *    names by turning those prototype properties into accessors that define an own property on the receiver.
 *    The Error constructor stays extensible and keeps `stackTraceLimit` / `prepareStackTrace` writable: the
 *    TypeScript compiler that tslab runs assigns them.
 * 2. Makes the global bindings of those names read-only and non-configurable (`Math = ...` fails).
 * 3. Replaces process.kill (and the internal process._kill) by a version that may only signal the kernel
 *    itself: a hand-in cannot kill the runner that reports its results.
 * 4. Freezes the library's namespace object and the prototypes of the classes it exports.
 * 5. Publishes the pristine values under a per-run name (`guard`, e.g. bpGuard_1f2e...), a read-only global:
 *    the grader wraps each test in a function whose parameters are the names the test uses (Math, Number,
 *    bp, ...) and whose arguments come from that object, so a student's `const Math = {...}` (which tslab
 *    would otherwise let later cells see) never reaches a test.
 * The Node permission model (see sandbox.ts: no child processes, workers, inspector or file writes) is what
 * keeps a hand-in from undoing this from outside the JavaScript heap.
 */

const GLOBAL_NAMES = [
  "Object", "Function", "Array", "Number", "Boolean", "String", "Symbol", "BigInt", "Date", "Promise", "RegExp",
  "Error", "AggregateError", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError",
  "JSON", "Math", "Reflect", "Proxy", "Atomics", "Intl", "WebAssembly",
  "ArrayBuffer", "SharedArrayBuffer", "DataView", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array",
  "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
  "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry",
  "isFinite", "isNaN", "parseFloat", "parseInt", "decodeURI", "decodeURIComponent", "encodeURI",
  "encodeURIComponent", "escape", "unescape", "eval", "globalThis",
];

/** Prototype properties that code commonly shadows by assignment on an instance (override mistake). */
const OVERRIDABLE = new Set(["constructor", "toString", "valueOf", "toLocaleString", "name", "message", "then", "toJSON",
  "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"]);

function hiddenIntrinsics() {
  const protoOf = Object.getPrototypeOf;
  const out = [];
  const add = (x) => { if (x) out.push(x); };
  const gen = function* () {};
  const agen = async function* () {};
  add(protoOf(gen)); // %GeneratorFunction.prototype%
  add(protoOf(gen.prototype)); // %GeneratorPrototype%
  add(protoOf(agen));
  add(protoOf(agen.prototype));
  add(protoOf(async function () {}));
  add(protoOf(Int8Array)); // %TypedArray%
  add(protoOf([][Symbol.iterator]())); // %ArrayIteratorPrototype%
  add(protoOf(protoOf([][Symbol.iterator]()))); // %IteratorPrototype%
  add(protoOf(new Map()[Symbol.iterator]()));
  add(protoOf(new Set()[Symbol.iterator]()));
  add(protoOf(""[Symbol.iterator]()));
  add(protoOf(/x/[Symbol.matchAll]("")));
  return out;
}

/**
 * Turns the writable data property `key` of `proto` (descriptor `d`) into a fixed accessor pair: reading gives
 * the original value; assigning on `proto` itself throws (`what` names it in the message); assigning on an
 * object that inherits from it defines an own property there, so `obj.toString = f` still works on instances.
 */
function lockAsAccessor(proto, key, d, what) {
  const value = d.value;
  Object.defineProperty(proto, key, {
    configurable: false,
    enumerable: d.enumerable,
    get() {
      return value;
    },
    set(v) {
      if (this === proto) throw new TypeError(`Cannot assign to read only property '${String(key)}' of ${what}`);
      Object.defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
    },
  });
}

/** Every writable data property of a prototype becomes an accessor pair; nothing can be added or redefined. */
function lockPrototype(proto) {
  for (const key of Reflect.ownKeys(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (!d || !d.configurable) continue;
    if ("value" in d && d.writable) lockAsAccessor(proto, key, d, "a locked prototype");
    else Object.defineProperty(proto, key, "value" in d ? { writable: false, configurable: false } : { configurable: false });
  }
  Object.preventExtensions(proto);
}

const lockedExports = new WeakSet();
/** Exports their own module reassigns while running (tslab's jupyter.js: the display writer of the current cell). */
const STILL_WRITABLE = new Set(["lastWriteDisplayData"]);

/** A module's exports: own properties read-only, nothing added, exported classes' prototypes locked. */
function lockExports(exp) {
  if ((typeof exp !== "object" && typeof exp !== "function") || exp === null || lockedExports.has(exp)) return;
  lockedExports.add(exp);
  for (const key of Reflect.ownKeys(exp)) {
    const d = Object.getOwnPropertyDescriptor(exp, key);
    if (!d) continue;
    const v = "value" in d ? d.value : undefined;
    if (typeof v === "function" && v.prototype && typeof v.prototype === "object" && v.prototype !== Object.prototype) {
      try {
        lockPrototype(v.prototype);
      } catch {
        /* exotic */
      }
    }
    if (d.configurable && !STILL_WRITABLE.has(key)) {
      try {
        Object.defineProperty(exp, key, "value" in d ? { writable: false, configurable: false } : { configurable: false });
      } catch {
        /* exotic */
      }
    }
  }
  Object.preventExtensions(exp);
}

module.exports = function harden(guard, lib) {
  const g = globalThis;
  const pristine = Object.create(null);
  for (const n of GLOBAL_NAMES) if (n in g) pristine[n] = g[n];
  if (lib) pristine.bp = lib;

  const seen = new Set();
  const prototypes = new Set();
  const todo = [];
  const visit = (x) => {
    if ((typeof x === "object" && x !== null) || typeof x === "function") {
      if (!seen.has(x)) {
        seen.add(x);
        todo.push(x);
      }
    }
  };
  for (const n of GLOBAL_NAMES) {
    if (n === "globalThis" || !(n in pristine)) continue;
    const v = pristine[n];
    visit(v);
    if (typeof v === "function" && v.prototype) prototypes.add(v.prototype);
  }
  for (const h of hiddenIntrinsics()) {
    visit(h);
    prototypes.add(h);
  }
  const errorCtor = pristine.Error;
  const lockAccessors = (o, key, d) => lockAsAccessor(o, key, d, "a frozen built-in");
  while (todo.length) {
    const o = todo.pop();
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (!d) continue;
      if ("value" in d) visit(d.value);
      else {
        visit(d.get);
        visit(d.set);
      }
      if (typeof d.value === "function" && d.value.prototype && key === "constructor") prototypes.add(o);
    }
    visit(Object.getPrototypeOf(o));
  }
  for (const o of seen) {
    const isProto = prototypes.has(o) || o === Object.prototype || o === Function.prototype;
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (!d) continue;
      if (o === errorCtor && (key === "stackTraceLimit" || key === "prepareStackTrace" || key === "captureStackTrace")) continue;
      if (isProto && "value" in d && d.writable && d.configurable && OVERRIDABLE.has(key)) lockAccessors(o, key, d);
      else if (d.configurable || d.writable) {
        try {
          Object.defineProperty(o, key, "value" in d ? { writable: false, configurable: false } : { configurable: false });
        } catch {
          /* a few exotic properties refuse; Object.freeze below reports nothing for them either */
        }
      }
    }
    if (o !== errorCtor) Object.preventExtensions(o);
  }

  // Global bindings: read-only, non-configurable.
  for (const n of GLOBAL_NAMES) {
    const d = Object.getOwnPropertyDescriptor(g, n);
    if (d && "value" in d && (d.writable || d.configurable)) Object.defineProperty(g, n, { writable: false, configurable: false });
  }

  // The kernel may only signal itself: process.kill calls process._kill, which checks the pid first.
  const realKill = process._kill;
  if (typeof realKill === "function") {
    const guarded = function _kill(pid, sig) {
      if (Number(pid) !== process.pid) return -1; // EPERM (process.kill turns it into an error)
      return realKill.call(process, pid, sig);
    };
    Object.defineProperty(process, "_kill", { value: guarded, writable: false, configurable: false });
  }
  Object.defineProperty(process, "kill", { value: process.kill, writable: false, configurable: false });

  // The library: its namespace and the prototypes of the classes it exports.
  if (lib) {
    for (const k of Object.keys(lib)) {
      let v;
      try {
        v = lib[k];
      } catch {
        continue;
      }
      if (typeof v === "function" && v.prototype && typeof v.prototype === "object") {
        for (const key of Reflect.ownKeys(v.prototype)) {
          const d = Object.getOwnPropertyDescriptor(v.prototype, key);
          if (d && "value" in d && d.configurable) {
            if (OVERRIDABLE.has(key) && d.writable) lockAccessors(v.prototype, key, d);
            else Object.defineProperty(v.prototype, key, { writable: false, configurable: false });
          }
        }
        Object.preventExtensions(v.prototype);
        Object.freeze(v);
      }
    }
    Object.freeze(lib);
  }

  // The kernel's own code path from a cell to its reply: tslab (its executor calls vm.runInThisContext, its
  // converter calls TypeScript), zeromq, and the built-in modules they look functions up on at call time.
  // Their exports become read-only and their classes' prototypes locked (every data property an accessor,
  // so instances can still assign their own fields).
  for (const name of ["vm", "crypto", "util", "path", "fs", "module"]) {
    try {
      lockExports(require(name));
    } catch {
      /* not loadable here */
    }
  }
  for (const [file, mod] of Object.entries(require.cache)) {
    if (/[\\/]node_modules[\\/](tslab|zeromq|@tslab)[\\/]/.test(file) && mod) lockExports(mod.exports);
  }

  Object.defineProperty(g, guard, { value: Object.freeze(pristine), writable: false, configurable: false, enumerable: false });
  return seen.size;
};

module.exports.GLOBAL_NAMES = GLOBAL_NAMES;
