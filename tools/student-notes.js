// Two notes a student needs, around the kernel's execution of a cell (loaded by tools/tslab-protocol.js):
// - the first cell that imports ./lib/ loads the library (and TensorFlow.js) before anything runs; when the
//   compiled copy (.lib-build/) cannot be used, tslab type-checks the whole library first: seconds of silence
//   (the compiler blocks the kernel, so no timer could speak during it). Say so before it starts.
// - a cell that fails to compile runs nothing, so the functions it defines keep their previous definition
//   (in an exercise, the stub that throws "sin implementar"). When a later cell fails and uses one of them,
//   say that the cell defining it did not run. (Top-level declarations only: test cells keep theirs in a block.)
"use strict";

const DECLARED = /^(?:export\s+)?(?:(?:async\s+)?function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)/gm;

/** `compiledLib`: the kernel imports the compiled library (tools/compiled-lib.js), not lib/'s sources. */
function createStudentNotes({ compiledLib = false } = {}) {
  const stale = new Map(); // name -> first line of the cell that failed to compile
  let announced = false;
  return {
    /** Before a cell runs: the notice of the first library import. */
    before(code, writeStream) {
      if (!announced && /from\s+["']\.\/lib\//.test(code)) {
        announced = true;
        writeStream("stdout", compiledLib
          ? "Cargando la biblioteca…\n"
          : "Cargando la biblioteca: tslab comprueba los tipos de lib/ antes de ejecutar (la primera vez, unos segundos)…\n");
      }
    },
    /** After a cell: `failed` it raised an error, `compileError` it did not compile (so nothing in it ran). */
    after(code, { failed, compileError }, writeStream) {
      const declared = Array.from(code.matchAll(DECLARED), (m) => m[1]);
      if (!failed) {
        for (const n of declared) stale.delete(n);
        return;
      }
      if (compileError) {
        const first = code.split("\n").find((l) => l.trim()) || "";
        for (const n of declared) stale.set(n, first.trim().slice(0, 60));
      }
      const used = Array.from(stale.keys()).filter((n) => !declared.includes(n) && new RegExp(`(^|[^\\w$.])${n.replace(/\$/g, "\\$")}\\s*\\(`).test(code));
      if (used.length > 0) {
        const names = used.map((n) => `«${n}»`).join(", ");
        writeStream("stderr", `Ojo: la celda que define ${names} (empieza por «${stale.get(used[0])}») no llegó a ejecutarse: tuvo un error de compilación, ` +
          `así que sigue valiendo su versión anterior. Corrige ese error, ejecuta esa celda y después vuelve a ejecutar esta.\n`);
      }
    },
  };
}

module.exports = { createStudentNotes };
