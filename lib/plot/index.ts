// Public API of lib/plot (re-exported by lib/index.ts).
export * from "./figure";
export * from "./show";
export * from "./layers";
export * from "./boundary";
export * from "./reproduction";
