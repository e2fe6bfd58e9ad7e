// Public API of lib/scratch (re-exported by lib/index.ts).
export {};
