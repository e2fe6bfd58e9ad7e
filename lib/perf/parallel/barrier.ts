/**
 * A barrier for threads that share memory: every thread calls `wait()`, and none returns before all
 * `parties` threads have arrived. Built on Atomics over an Int32Array in a SharedArrayBuffer:
 *   state[0]  how many threads have arrived in the current round;
 *   state[1]  the round's number (the "generation"): the last thread to arrive resets the count, bumps
 *             the generation and wakes the sleepers, who were waiting for the generation to change;
 *   state[2]  abort flag: a thread that failed sets it, so the others stop waiting instead of hanging.
 */
export const BARRIER_INTS = 3;

export class Barrier {
  /** `state` is BARRIER_INTS Int32 slots of a SharedArrayBuffer, zero-filled before the first use. */
  constructor(private readonly state: Int32Array, private readonly parties: number) {
    if (state.length < BARRIER_INTS || !(state.buffer instanceof SharedArrayBuffer)) {
      throw new Error(`Barrier: needs ${BARRIER_INTS} Int32 slots of a SharedArrayBuffer`);
    }
  }

  /** Blocks until all parties have called wait() (or throws when another thread aborted). */
  wait(): void {
    if (this.aborted()) throw new Error("another worker failed; this one stops too");
    const generation = Atomics.load(this.state, 1);
    if (Atomics.add(this.state, 0, 1) === this.parties - 1) {
      Atomics.store(this.state, 0, 0); // last to arrive: open the barrier for everyone
      Atomics.add(this.state, 1, 1);
      Atomics.notify(this.state, 1);
      return;
    }
    while (Atomics.load(this.state, 1) === generation && !this.aborted()) {
      Atomics.wait(this.state, 1, generation, 1000); // wakes on notify, or every second to check the abort flag
    }
    if (this.aborted()) throw new Error("another worker failed; this one stops too");
  }

  /** True once a thread called abort(). */
  aborted(): boolean {
    return Atomics.load(this.state, 2) !== 0;
  }

  /** Marks the barrier broken and wakes every waiting thread (they throw). */
  abort(): void {
    Atomics.store(this.state, 2, 1);
    Atomics.add(this.state, 1, 1);
    Atomics.notify(this.state, 1);
  }
}
