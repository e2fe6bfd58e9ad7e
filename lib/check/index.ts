// Public API of lib/check (re-exported by lib/index.ts).
export {};
