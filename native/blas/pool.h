// Two lanes for the addon's kernels: the calling thread and one worker thread. A kernel splits its work in
// two disjoint parts (rows of a product, images of a batch, halves of an array) and each lane computes its
// part exactly as the one-lane loop would, so the bits do not depend on the number of lanes.
#ifndef BP_POOL_H
#define BP_POOL_H
#include <stddef.h>

// body(ctx, lo, hi) computes items [lo, hi) of a kernel's work
typedef void (*bp_body)(void *ctx, size_t lo, size_t hi);

// 1 or 2 (setLanes from JavaScript; 1 until it is called)
int bp_lanes(void);
void bp_set_lanes(int lanes);
// patient: the caller always waits for the worker's part instead of taking it back (tests of the split path)
void bp_set_patient(int on);
// body over [0, n): items [0, cut) on this thread and [cut, n) on the worker at the same time when two lanes
// are on and the worker is free (another caller, e.g. a worker_thread of Node, may hold it) and comes in time;
// else both parts here, in order
void bp_run2(bp_body body, void *ctx, size_t n, size_t cut);
// how many calls had their second part computed by the worker since the previous call (tests)
unsigned bp_take_splits(void);
// bp_run2 at the middle (rounded down to a multiple of `align`) when n·cost ≥ the size that pays for a
// second lane, else body(ctx, 0, n); cost is a rough number of nanoseconds per item
void bp_split(bp_body body, void *ctx, size_t n, size_t align, double cost);
#endif
