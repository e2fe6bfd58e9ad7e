// Public API of lib/diagnostics (re-exported by lib/index.ts).
export {};
