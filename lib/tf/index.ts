// Public API of lib/tf (re-exported by lib/index.ts).
export {};
