// Window kernels for backprop-lab's conv and pooling layers on the wasm backend (lib/perf/windows.ts):
// im2col, col2im and the pooling way back, on Float32Array/Int32Array views of the wasm heap, so a tensor's
// data is read and written in place. They follow lib/perf/windows.ts's JavaScript loops step by step (same
// order of the additions, same rounding: JS adds in double and rounds to float32 when it stores), so both
// routes give the same bits; test/windows-native.test.ts checks it.
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <xmmintrin.h>
#endif

#include "pool.h"
#include "windows.h"

void *bp_view(napi_env env, napi_value v, napi_typedarray_type want, size_t *len) {
  napi_typedarray_type type;
  void *data;
  napi_value buf;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, len, &data, &buf, &offset) != napi_ok || type != want) return NULL;
  return data;
}

napi_value bp_fail(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

int bp_has_avx512(void) {
#if defined(__x86_64__)
  static int known = -1;   // a benign race: every thread finds the same answer
  if (known < 0) {
    __builtin_cpu_init();   // idempotent; the CPU model may not be read yet when the addon is loaded
    known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  }
  return known;
#else
  return 0;
#endif
}

int bp_ints(napi_env env, napi_value *argv, int n, int32_t *out) {
  for (int i = 0; i < n; i++)
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok || out[i] < 0) return 0;
  return 1;
}

// The arguments of im2col and col2im: an image (x or dx), the geometry g = [N, H, W, C, KH, KW, stride, top,
// left, OH, OW] (Int32Array) and the window rows (out or cols, [N·OH·OW, KH·KW·C]); image first for im2col,
// rows first for col2im. 0 (with a JS error thrown) when they do not fit. Rows that fall in the padding are
// never read or written in the image, so any OH, OW is safe.
typedef struct { float *image, *rows; int32_t N, H, W, C, KH, KW, s, top, left, OH, OW; } window_args;

static int parse_window_args(napi_env env, napi_callback_info info, const char *usage, int image_first, window_args *w) {
  size_t argc = 3, limage, lrows, lg;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 3) return bp_fail(env, usage), 0;
  w->image = bp_view(env, argv[image_first ? 0 : 2], napi_float32_array, &limage);
  w->rows = bp_view(env, argv[image_first ? 2 : 0], napi_float32_array, &lrows);
  int32_t *g = bp_view(env, argv[1], napi_int32_array, &lg);
  if (!w->image || !w->rows || !g || lg != 11) return bp_fail(env, usage), 0;
  for (int i = 0; i < 11; i++) if (g[i] < 0) return bp_fail(env, "window geometry: negative entry"), 0;
  w->N = g[0], w->H = g[1], w->W = g[2], w->C = g[3], w->KH = g[4], w->KW = g[5], w->s = g[6], w->top = g[7], w->left = g[8], w->OH = g[9], w->OW = g[10];
  if (w->C < 1 || w->KH < 1 || w->KW < 1 || w->s < 1) return bp_fail(env, "window geometry: C, KH, KW and stride must be ≥ 1"), 0;
  if (limage < (size_t)w->N * w->H * w->W * w->C || lrows < (size_t)w->N * w->OH * w->OW * w->KH * w->KW * w->C) return bp_fail(env, "window arrays shorter than their geometry"), 0;
  return 1;
}

// The columns c of a window row that fall inside the image: [lo, hi) (the rest is padding).
static void inside(const window_args *a, int32_t j, int32_t *lo, int32_t *hi) {
  int32_t q0 = j * a->s - a->left;   // image column of c = 0
  *lo = q0 < 0 ? (-q0 < a->KW ? -q0 : a->KW) : 0;   // a window may lie wholly in the padding
  *hi = a->W - q0 < a->KW ? a->W - q0 : a->KW;
  if (*hi < *lo) *hi = *lo;
}

// Short runs of floats (LeNet-5's C1: 5 per window row) as 4-float moves, the last one overlapping the one
// before; shorter runs, and CPUs without SSE, value by value. Copies and zeros: any order gives the same bits.
static inline void copy_run(float *o, const float *from, size_t n) {
#ifdef __SSE2__
  if (n >= 4) {
    size_t e = 0;
    for (; e + 4 <= n; e += 4) _mm_storeu_ps(o + e, _mm_loadu_ps(from + e));
    if (e < n) _mm_storeu_ps(o + n - 4, _mm_loadu_ps(from + n - 4));
    return;
  }
#endif
  for (size_t e = 0; e < n; e++) o[e] = from[e];
}

static inline void zero_run(float *o, size_t n) {
#ifdef __SSE2__
  if (n >= 4) {
    size_t e = 0;
    for (; e + 4 <= n; e += 4) _mm_storeu_ps(o + e, _mm_setzero_ps());
    if (e < n) _mm_storeu_ps(o + n - 4, _mm_setzero_ps());
    return;
  }
#endif
  for (size_t e = 0; e < n; e++) o[e] = 0;
}

// im2col(x, g, out): out[(n, i, j), (a, c, ci)] = x[n, s·i + a − top, s·j + c − left, ci], 0 in the padding;
// each window row is one contiguous run of x (its columns inside the image). Output rows (n, i) from t0 to t1.
static void im2col_rows(void *ctx, size_t t0, size_t t1) {
  const window_args a = *(const window_args *)ctx;
  const size_t C = a.C, run = (size_t)a.KW * C;
  float *o = a.rows + t0 * a.OW * a.KH * run;
  for (size_t t = t0; t < t1; t++) {
    const int32_t n = t / a.OH, i = t % a.OH;
    for (int32_t j = 0; j < a.OW; j++) {
      int32_t lo, hi;
      inside(&a, j, &lo, &hi);
      for (int32_t r0 = 0; r0 < a.KH; r0++, o += run) {
        int32_t r = i * a.s + r0 - a.top;
        if (r < 0 || r >= a.H || hi == lo) {
          zero_run(o, run);
          continue;
        }
        const float *from = a.image + (((size_t)n * a.H + r) * a.W + (j * a.s + lo - a.left)) * C;
        if (lo > 0 || hi < a.KW) zero_run(o, run);   // a window at the border: zeros, then what is inside
        copy_run(o + lo * C, from, (size_t)(hi - lo) * C);
      }
    }
  }
}

static napi_value im2col(napi_env env, napi_callback_info info) {
  window_args a;
  if (!parse_window_args(env, info, "im2col(x: Float32Array, geometry: Int32Array(11), out: Float32Array)", 1, &a)) return NULL;
  // a copy: any split gives the same bits; ~0.5 ns per value written
  bp_split(im2col_rows, &a, (size_t)a.N * a.OH, 1, 0.5 * a.OW * a.KH * a.KW * a.C);
  return NULL;
}

// col2im(cols, g, dx): dx = 0, then every entry of cols added to the image position it came from, in the
// order of lib/perf/windows.ts's loop (window rows n, i, j, a, c, then channels). Windows of one image overlap,
// windows of two images never do: the lanes split the images, so every sum keeps its order.
static void col2im_images(void *ctx, size_t n0, size_t n1) {
  const window_args a = *(const window_args *)ctx;
  const size_t C = a.C, run = (size_t)a.KW * C, image = (size_t)a.H * a.W * C;
  memset(a.image + n0 * image, 0, sizeof(float) * (n1 - n0) * image);
  const float *c = a.rows + n0 * a.OH * a.OW * a.KH * run;
  for (size_t n = n0; n < n1; n++)
    for (int32_t i = 0; i < a.OH; i++)
      for (int32_t j = 0; j < a.OW; j++) {
        int32_t lo, hi;
        inside(&a, j, &lo, &hi);
        for (int32_t r0 = 0; r0 < a.KH; r0++, c += run) {
          int32_t r = i * a.s + r0 - a.top;
          if (r < 0 || r >= a.H) continue;
          float *d = a.image + ((n * a.H + r) * a.W + (j * a.s + lo - a.left)) * C;
          const float *from = c + lo * C;
          // float32 + float32 in double, rounded once to float32: the same as one float32 addition (SSE's,
          // four positions at a time: the positions of one run are distinct, so every sum keeps its order)
          size_t e = 0, m = (size_t)(hi - lo) * C;
#ifdef __SSE2__
          for (; e + 4 <= m; e += 4) _mm_storeu_ps(d + e, _mm_add_ps(_mm_loadu_ps(d + e), _mm_loadu_ps(from + e)));
#endif
          for (; e < m; e++) d[e] = (float)((double)d[e] + (double)from[e]);
        }
      }
}

static napi_value col2im(napi_env env, napi_callback_info info) {
  window_args a;
  if (!parse_window_args(env, info, "col2im(cols: Float32Array, geometry: Int32Array(11), dx: Float32Array)", 0, &a)) return NULL;
  bp_split(col2im_images, &a, a.N, 1, 0.7 * a.OH * a.OW * a.KH * a.KW * a.C);
  return NULL;
}

// poolBackward(d, winner | null, N, H, W, C, OH, OW, k, stride, dx): the way back of k × k pooling windows
// (lib/perf/windows.ts poolBackward). avg: v = d[o] · (1/k²) stays a double, as in JS; max: d[o] to the winner.
// The lanes split the images (windows of one image may overlap when stride < k).
typedef struct { const float *d; const int32_t *win; float *dx; int32_t H, W, C, OH, OW, k, s; _Atomic int bad; } pool_args;

static void pool_images(void *ctx, size_t n0, size_t n1) {
  pool_args *p = ctx;
  const int32_t H = p->H, W = p->W, C = p->C, OH = p->OH, OW = p->OW, k = p->k, s = p->s;
  memset(p->dx + n0 * H * W * C, 0, sizeof(float) * (n1 - n0) * H * W * C);
  const double share = 1.0 / (double)(k * k);
  size_t o = n0 * OH * OW * C;
  for (size_t n = n0; n < n1; n++) {
    for (int32_t i = 0; i < OH; i++) {
      for (int32_t j = 0; j < OW; j++) {
        for (int32_t c = 0; c < C; c++, o++) {
          if (p->win) {
            int32_t q = p->win[o];
            if (q < 0 || q >= k * k) {
              p->bad = 1;
              return;
            }
            int32_t a = q / k, b = q - a * k;
            float *t = p->dx + ((n * H + i * s + a) * W + j * s + b) * C + c;
            *t = (float)((double)*t + (double)p->d[o]);
          } else {
            const double v = (double)p->d[o] * share;
            for (int32_t a = 0; a < k; a++) {
              float *row = p->dx + ((n * H + i * s + a) * W + j * s) * C + c;
              for (int32_t b = 0; b < k; b++) row[b * C] = (float)((double)row[b * C] + v);
            }
          }
        }
      }
    }
  }
}

static napi_value pool_backward(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 11) return bp_fail(env, "poolBackward(d, winner | null, N, H, W, C, OH, OW, k, stride, dx)");
  size_t ld, lw = 0, lx;
  float *d = bp_view(env, argv[0], napi_float32_array, &ld), *dx = bp_view(env, argv[10], napi_float32_array, &lx);
  napi_valuetype wt;
  napi_typeof(env, argv[1], &wt);
  int32_t *win = NULL;
  if (wt != napi_null && wt != napi_undefined) {
    win = bp_view(env, argv[1], napi_int32_array, &lw);
    if (!win) return bp_fail(env, "poolBackward: winner must be an Int32Array or null");
  }
  int32_t g[8];
  if (!d || !dx || !bp_ints(env, argv + 2, 8, g)) return bp_fail(env, "poolBackward: d, dx Float32Array and non-negative sizes");
  int32_t N = g[0], H = g[1], W = g[2], C = g[3], OH = g[4], OW = g[5], k = g[6], s = g[7];
  size_t outs = (size_t)N * OH * OW * C;
  if (k < 1 || s < 1 || ld < outs || (win && lw < outs) || lx < (size_t)N * H * W * C) return bp_fail(env, "poolBackward: arrays shorter than their shapes");
  if ((int64_t)(OH - 1) * s + k > H || (int64_t)(OW - 1) * s + k > W) return bp_fail(env, "poolBackward: windows do not fit in H × W");
  pool_args p = {d, win, dx, H, W, C, OH, OW, k, s, 0};
  bp_split(pool_images, &p, N, 1, 1.0 * OH * OW * C * (win ? 1 : k * k));
  if (p.bad) return bp_fail(env, "poolBackward: a winner index is outside its window");
  return NULL;
}

// out (cols × rows) = aᵀ (a: rows × cols). With SSE: 4 × 4 blocks transposed in registers, eight input rows
// read as one run and each output row written 32 bytes at a time, which keeps every stream sequential
// (LeNet-5's X̃ is 50 176 × 25: a column-at-a-time walk is bound by its strided loads); the rest, and other
// CPUs, element by element in tiles. A copy either way: same bits.
// Rows [lo, hi) of a (R rows in all) go to columns [lo, hi) of out.
static void transpose_rows(const float *a, size_t R, size_t Cn, float *out, size_t lo, size_t hi) {
  size_t r0 = lo;
#ifdef __SSE2__
  // eight rows at a time: two 4 × 4 blocks per column group, so each output row gets 32 contiguous bytes
  for (; r0 + 8 <= hi; r0 += 8) {
    const float *a0 = a + r0 * Cn;
    size_t c = 0;
    for (; c + 4 <= Cn; c += 4) {
      for (size_t h = 0; h < 8; h += 4) {
        const float *b = a0 + h * Cn + c;
        __m128 x0 = _mm_loadu_ps(b), x1 = _mm_loadu_ps(b + Cn), x2 = _mm_loadu_ps(b + 2 * Cn), x3 = _mm_loadu_ps(b + 3 * Cn);
        _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
        float *o = out + c * R + r0 + h;
        _mm_storeu_ps(o, x0);
        _mm_storeu_ps(o + R, x1);
        _mm_storeu_ps(o + 2 * R, x2);
        _mm_storeu_ps(o + 3 * R, x3);
      }
    }
    for (; c < Cn; c++) {
      float *o = out + c * R + r0;
      for (size_t k = 0; k < 8; k++) o[k] = a0[k * Cn + c];
    }
  }
#endif
  // tiles of 256 rows × 16 columns, each output row written as one run
  const size_t TR = 256, TC = 16;
  for (; r0 < hi; r0 += TR) {
    size_t r1 = r0 + TR < hi ? r0 + TR : hi;
    for (size_t c0 = 0; c0 < Cn; c0 += TC) {
      size_t c1 = c0 + TC < Cn ? c0 + TC : Cn;
      for (size_t c = c0; c < c1; c++) {
        float *o = out + c * R;
        const float *in = a + c;
        for (size_t r = r0; r < r1; r++) o[r] = in[r * Cn];
      }
    }
  }
}

void bp_transpose(const float *a, size_t rows, size_t cols, float *out) { transpose_rows(a, rows, cols, out, 0, rows); }

typedef struct { const float *a; size_t R, Cn; float *out; } transpose_args;

static void transpose_part(void *ctx, size_t lo, size_t hi) {
  const transpose_args *t = ctx;
  transpose_rows(t->a, t->R, t->Cn, t->out, lo, hi);
}

// transpose2d(a, rows, cols, out): out[c·rows + r] = a[r·cols + c], in tiles (a copy: same bits)
static napi_value transpose2d(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 4) return bp_fail(env, "transpose2d(a, rows, cols, out)");
  size_t la, lo;
  int32_t rc[2];
  float *a = bp_view(env, argv[0], napi_float32_array, &la), *out = bp_view(env, argv[3], napi_float32_array, &lo);
  if (!a || !out || !bp_ints(env, argv + 1, 2, rc)) return bp_fail(env, "transpose2d: a, out Float32Array, rows, cols ≥ 0");
  size_t R = rc[0], Cn = rc[1];
  if (la < R * Cn || lo < R * Cn) return bp_fail(env, "transpose2d: an array is shorter than rows·cols");
  transpose_args t = {a, R, Cn, out};
  bp_split(transpose_part, &t, R, 8, 0.6 * Cn);
  return NULL;
}

void define_window_kernels(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"im2col", NULL, im2col, NULL, NULL, NULL, napi_default, NULL},
      {"col2im", NULL, col2im, NULL, NULL, NULL, napi_default, NULL},
      {"poolBackward", NULL, pool_backward, NULL, NULL, NULL, napi_default, NULL},
      {"transpose2d", NULL, transpose2d, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
