// tanh for backprop-lab's wasm backend, bit for bit the wasm kernel's: tfjs-backend-wasm computes Tanh with
// Emscripten's libc, musl, whose tanhf and expm1f (FreeBSD msun) are transcribed here in float arithmetic with
// no contraction (binding.gyp: -ffp-contract=off), so native code rounds every step as wasm does. Checked
// against the wasm kernel on all 2^32 float32 inputs once (bench/RESULTS.md), and on a sample of every
// exponent range in test/windows-native.test.ts.
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "pool.h"
#include "windows.h"

static const float o_threshold = 8.8721679688e+01f, ln2_hi = 6.9313812256e-01f, ln2_lo = 9.0580006145e-06f,
                   invln2 = 1.4426950216e+00f, Q1 = -3.3333212137e-2f, Q2 = 1.5807170421e-3f;

static float bits_to_float(uint32_t i) {
  union { uint32_t i; float f; } u = {i};
  return u.f;
}

static float musl_expm1f(float x) {
  volatile float keep;
  float y, hi, lo, c, t, e, hxs, hfx, r1, twopk;
  union { float f; uint32_t i; } u = {x};
  uint32_t hx = u.i & 0x7fffffff;
  int k, sign = u.i >> 31;
  if (hx >= 0x4195b844) {   // |x| >= 27 ln2
    if (hx > 0x7f800000) return x;   // NaN
    if (sign) return -1;
    if (x > o_threshold) return x * 0x1p127f;
  }
  if (hx > 0x3eb17218) {   // |x| > 0.5 ln2
    if (hx < 0x3F851592) {   // and |x| < 1.5 ln2
      if (!sign) { hi = x - ln2_hi; lo = ln2_lo; k = 1; }
      else { hi = x + ln2_hi; lo = -ln2_lo; k = -1; }
    } else {
      k = invln2 * x + (sign ? -0.5f : 0.5f);
      t = k;
      hi = x - t * ln2_hi;   // exact
      lo = t * ln2_lo;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x33000000) {   // |x| < 2^-25
    if (hx < 0x00800000) keep = x * x;
    (void)keep;
    return x;
  } else
    k = 0;
  hfx = 0.5f * x;
  hxs = x * hfx;
  r1 = 1.0f + hxs * (Q1 + hxs * Q2);
  t = 3.0f - r1 * hfx;
  e = hxs * ((r1 - t) / (6.0f - x * t));
  if (k == 0) return x - (x * e - hxs);
  e = x * (e - c) - c;
  e -= hxs;
  if (k == -1) return 0.5f * (x - e) - 0.5f;
  if (k == 1) {
    if (x < -0.25f) return -2.0f * (e - (x + 0.5f));
    return 1.0f + 2.0f * (x - e);
  }
  twopk = bits_to_float((uint32_t)(0x7f + k) << 23);
  if (k < 0 || k > 56) {
    y = x - e + 1.0f;
    if (k == 128) y = y * 2.0f * 0x1p127f;
    else y = y * twopk;
    return y - 1.0f;
  }
  float twomk = bits_to_float((uint32_t)(0x7f - k) << 23);
  if (k < 23) y = (x - e + (1 - twomk)) * twopk;
  else y = (x - (e + twomk) + 1) * twopk;
  return y;
}

static float musl_tanhf(float x) {
  union { float f; uint32_t i; } u = {x};
  uint32_t w;
  int sign;
  float t;
  sign = u.i >> 31;
  u.i &= 0x7fffffff;
  x = u.f;
  w = u.i;
  if (w > 0x3f0c9f54) {   // |x| > log(3)/2 or NaN
    if (w > 0x41200000) t = 1 + 0 / x;   // |x| > 10
    else {
      t = musl_expm1f(2 * x);
      t = 1 - 2 / (t + 2);
    }
  } else if (w > 0x3e82c578) {   // |x| > log(5/3)/2
    t = musl_expm1f(2 * x);
    t = t / (t + 2);
  } else if (w >= 0x00800000) {   // |x| >= 2^-126
    t = musl_expm1f(-2 * x);
    t = -t / (t + 2);
  } else {
    t = x;   // subnormal
  }
  return sign ? -t : t;
}


// The same steps on 8 lanes at once (AVX2 where the CPU has it, else two SSE2 halves; no FMA): every path of musl_tanhf and musl_expm1f is computed for
// every lane and each lane keeps the one its scalar branch would take, so each lane's result is the scalar
// one, bit for bit (a float operation gives the same bits in a vector lane as alone). LeNet-5's
// pre-activations cross tanh's branch points all the time: the scalar loop spends most of its time on
// mispredicted branches (15 ns a value), this one has none.
typedef float vf __attribute__((vector_size(32)));
typedef int32_t vi __attribute__((vector_size(32)));
typedef uint32_t vu __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) vf pick(vi m, vf a, vf b) {   // m ? a : b, lane by lane (m is all ones or zeros)
  return (vf)(((vi)a & m) | ((vi)b & ~m));
}
static inline __attribute__((always_inline)) vf splat(float f) { return (vf){f, f, f, f, f, f, f, f}; }
static inline __attribute__((always_inline)) vi isplat(int32_t i) { return (vi){i, i, i, i, i, i, i, i}; }

static inline __attribute__((always_inline)) vf expm1f_v(vf y) {
  vu hx = (vu)y & 0x7fffffff;
  vi neg = (vi)((vu)y >> 31) != 0;   // sign
  vi reduce = hx > 0x3eb17218, near = hx < 0x3F851592, tiny = hx < 0x33000000;
  // k = ±1 near ln2, else rounded y/ln2
  vi kgen = __builtin_convertvector(splat(invln2) * y + pick(neg, splat(-0.5f), splat(0.5f)), vi);
  vf tg = __builtin_convertvector(kgen, vf);
  vf hi = pick(near, pick(neg, y + ln2_hi, y - ln2_hi), y - tg * ln2_hi);
  vf lo = pick(near, pick(neg, splat(-ln2_lo), splat(ln2_lo)), tg * ln2_lo);
  vi kr = (vi)pick(near, (vf)pick(neg, (vf)isplat(-1), (vf)isplat(1)), (vf)kgen);
  kr = reduce & kr;   // k = 0 when not reduced
  vf xr = hi - lo;
  vf c = (hi - xr) - lo;
  vf x = pick(reduce, xr, y);
  vf hfx = 0.5f * x, hxs = x * hfx;
  vf r1 = 1.0f + hxs * (Q1 + hxs * Q2);
  vf t = 3.0f - r1 * hfx;
  vf e = hxs * ((r1 - t) / (6.0f - x * t));
  vf r_k0 = x - (x * e - hxs);
  e = x * (e - c) - c;
  e -= hxs;
  vf r_m1 = 0.5f * (x - e) - 0.5f;
  vf r_p1 = pick(x < -0.25f, -2.0f * (e - (x + 0.5f)), 1.0f + 2.0f * (x - e));
  vf twopk = (vf)((vu)(0x7f + kr) << 23), twomk = (vf)((vu)(0x7f - kr) << 23);
  vf r_big = ((x - e + 1.0f) * twopk) - 1.0f;   // k < 0 or k > 56
  vf r_lt23 = (x - e + (1 - twomk)) * twopk, r_ge23 = (x - (e + twomk) + 1) * twopk;
  vf r = pick(kr < 23, r_lt23, r_ge23);
  r = pick((kr < 0) | (kr > 56), r_big, r);
  r = pick(kr == 1, r_p1, r);
  r = pick(kr == -1, r_m1, r);
  r = pick(kr == 0, r_k0, r);
  r = pick(tiny, y, r);
  // |y| >= 27 ln2: NaN, -1, or overflow (not reached from tanh's finite paths, kept for completeness)
  vi huge = hx >= 0x4195b844;
  vf r_huge = pick((vi)hx > 0x7f800000, y, pick(neg, splat(-1.0f), pick(y > o_threshold, y * 0x1p127f, r)));
  return pick(huge, r_huge, r);
}

static inline __attribute__((always_inline)) vf tanhf_v(vf x) {
  vu w = (vu)x & 0x7fffffff;
  vu sign = (vu)x & 0x80000000;
  vf a = (vf)w;
  vi above = w > 0x3f0c9f54, big = w > 0x41200000, mid = w > 0x3e82c578, normal = w >= 0x00800000;
  vf em = expm1f_v(pick(mid, 2 * a, -2 * a));
  vf q = em + 2, r = em / q;   // -em / q is -(em / q): division rounds symmetrically
  vf t = pick(normal, -r, a);
  t = pick(mid, r, t);
  t = pick(above, 1 - 2 / q, t);
  t = pick(big, pick(a != a, a + 1, splat(1.0f)), t);   // 1 + 0/|x|: 1, or NaN for NaN
  return (vf)((vu)t ^ sign);   // sign ? -t : t
}

// out[i] = tanhf(x[i]) as musl computes it, 8 lanes at a time; one version for AVX2, one for any x86-64
__attribute__((target_clones("avx2", "default"))) static void tanh_loop(const float *x, float *out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    vf v;
    __builtin_memcpy(&v, x + i, sizeof v);
    v = tanhf_v(v);
    __builtin_memcpy(out + i, &v, sizeof v);
  }
  for (; i < n; i++) out[i] = musl_tanhf(x[i]);
}

#if defined(__x86_64__)
// The same steps again on 16 lanes with AVX-512 (Xeons since Skylake-SP): the comparisons give mask registers
// and every "pick" is one blend, where the 8-lane code above needs an and, an and-not and an or per pick, so a
// value costs 1.6–1.8 ns on one lane against 3.0–3.4 (bench/RESULTS.md, round five). Same operations in the
// same order on each lane: the bits of the 8-lane loop on all 2^32 float32 inputs, NaN payloads included
// (checked once), and of the wasm kernel on the tests' sample.
#include <immintrin.h>
#define T512 __attribute__((target("avx512f"), always_inline)) static inline
// m ? a : b, with a mask register m
#define PICK(m, a, b) _mm512_mask_blend_ps((m), (b), (a))
#define PICKI(m, a, b) _mm512_mask_blend_epi32((m), (b), (a))
#define F(v) _mm512_set1_ps(v)
#define I(v) _mm512_set1_epi32(v)
#define UGT(a, v) _mm512_cmp_epu32_mask((a), I(v), _MM_CMPINT_NLE)
#define ULT(a, v) _mm512_cmp_epu32_mask((a), I(v), _MM_CMPINT_LT)
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define DIV _mm512_div_ps
T512 __m512 expm1f_512(__m512 y) {
  __m512i yi = _mm512_castps_si512(y);
  __m512i hx = _mm512_and_si512(yi, I(0x7fffffff));
  __mmask16 neg = _mm512_cmp_epu32_mask(_mm512_srli_epi32(yi, 31), I(0), _MM_CMPINT_NE);
  __mmask16 reduce = UGT(hx, 0x3eb17218), near = ULT(hx, 0x3F851592), tiny = ULT(hx, 0x33000000);
  __m512i kgen = _mm512_cvttps_epi32(ADD(MUL(F(invln2), y), PICK(neg, F(-0.5f), F(0.5f))));
  __m512 tg = _mm512_cvtepi32_ps(kgen);
  __m512 hi = PICK(near, PICK(neg, ADD(y, F(ln2_hi)), SUB(y, F(ln2_hi))), SUB(y, MUL(tg, F(ln2_hi))));
  __m512 lo = PICK(near, PICK(neg, F(-ln2_lo), F(ln2_lo)), MUL(tg, F(ln2_lo)));
  __m512i kr = PICKI(near, PICKI(neg, I(-1), I(1)), kgen);
  kr = _mm512_maskz_mov_epi32(reduce, kr);
  __m512 xr = SUB(hi, lo);
  __m512 c = SUB(SUB(hi, xr), lo);
  __m512 x = PICK(reduce, xr, y);
  __m512 hfx = MUL(F(0.5f), x), hxs = MUL(x, hfx);
  __m512 r1 = ADD(F(1.0f), MUL(hxs, ADD(F(Q1), MUL(hxs, F(Q2)))));
  __m512 t = SUB(F(3.0f), MUL(r1, hfx));
  __m512 e = MUL(hxs, DIV(SUB(r1, t), SUB(F(6.0f), MUL(x, t))));
  __m512 r_k0 = SUB(x, SUB(MUL(x, e), hxs));
  e = SUB(MUL(x, SUB(e, c)), c);
  e = SUB(e, hxs);
  __m512 r_m1 = SUB(MUL(F(0.5f), SUB(x, e)), F(0.5f));
  __m512 r_p1 = PICK(_mm512_cmp_ps_mask(x, F(-0.25f), _CMP_LT_OQ), MUL(F(-2.0f), SUB(e, ADD(x, F(0.5f)))), ADD(F(1.0f), MUL(F(2.0f), SUB(x, e))));
  __m512 twopk = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(I(0x7f), kr), 23));
  __m512 twomk = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_sub_epi32(I(0x7f), kr), 23));
  __m512 xe = SUB(x, e);
  __m512 r_big = SUB(MUL(ADD(xe, F(1.0f)), twopk), F(1.0f));
  __m512 r_lt23 = MUL(ADD(xe, SUB(F(1.0f), twomk)), twopk), r_ge23 = MUL(ADD(SUB(x, ADD(e, twomk)), F(1.0f)), twopk);
  __m512 r = PICK(_mm512_cmp_epi32_mask(kr, I(23), _MM_CMPINT_LT), r_lt23, r_ge23);
  r = PICK(_mm512_cmp_epi32_mask(kr, I(0), _MM_CMPINT_LT) | _mm512_cmp_epi32_mask(kr, I(56), _MM_CMPINT_NLE), r_big, r);
  r = PICK(_mm512_cmp_epi32_mask(kr, I(1), _MM_CMPINT_EQ), r_p1, r);
  r = PICK(_mm512_cmp_epi32_mask(kr, I(-1), _MM_CMPINT_EQ), r_m1, r);
  r = PICK(_mm512_cmp_epi32_mask(kr, I(0), _MM_CMPINT_EQ), r_k0, r);
  r = PICK(tiny, y, r);
  __mmask16 huge = _mm512_cmp_epu32_mask(hx, I(0x4195b844), _MM_CMPINT_NLT);
  __m512 r_huge = PICK(_mm512_cmp_epi32_mask(hx, I(0x7f800000), _MM_CMPINT_NLE), y,
                       PICK(neg, F(-1.0f), PICK(_mm512_cmp_ps_mask(y, F(o_threshold), _CMP_GT_OQ), MUL(y, F(0x1p127f)), r)));
  return PICK(huge, r_huge, r);
}
T512 __m512 tanhf_512(__m512 xv) {
  __m512i xi = _mm512_castps_si512(xv);
  __m512i w = _mm512_and_si512(xi, I(0x7fffffff)), sign = _mm512_and_si512(xi, I((int32_t)0x80000000));
  __m512 a = _mm512_castsi512_ps(w);
  __mmask16 above = UGT(w, 0x3f0c9f54), big = UGT(w, 0x41200000), mid = UGT(w, 0x3e82c578), normal = _mm512_cmp_epu32_mask(w, I(0x00800000), _MM_CMPINT_NLT);
  __m512 em = expm1f_512(PICK(mid, MUL(F(2.0f), a), MUL(F(-2.0f), a)));
  __m512 q = ADD(em, F(2.0f)), r = DIV(em, q);
  __m512 t = PICK(normal, _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(r), I((int32_t)0x80000000))), a);
  t = PICK(mid, r, t);
  t = PICK(above, SUB(F(1.0f), DIV(F(2.0f), q)), t);
  t = PICK(big, PICK(_mm512_cmp_ps_mask(a, a, _CMP_NEQ_UQ), ADD(a, F(1.0f)), F(1.0f)), t);
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(t), sign));
}
#undef PICK
#undef PICKI
#undef F
#undef I
#undef UGT
#undef ULT
#undef ADD
#undef SUB
#undef MUL
#undef DIV
#undef T512

__attribute__((target("avx512f"))) static void tanh_loop16(const float *x, float *out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, tanhf_512(_mm512_loadu_ps(x + i)));
  for (; i < n; i++) out[i] = musl_tanhf(x[i]);
}
#else
static void tanh_loop16(const float *x, float *out, size_t n) { (void)x, (void)out, (void)n; }
#endif

typedef struct { const float *x; float *out; int wide; } map_args;

static void tanh_part(void *ctx, size_t lo, size_t hi) {
  const map_args *m = ctx;
  (m->wide ? tanh_loop16 : tanh_loop)(m->x + lo, m->out + lo, hi - lo);
}

// tanh(x, out[, lanes]): lanes 8 keeps to the 8-lane loop (tests compare both loops with the wasm kernel);
// otherwise 16 where the CPU has AVX-512. tanhLanes() says which one a plain call takes.
static napi_value tanh_f32(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_typedarray_type tx, to;
  void *dx, *dout;
  size_t lx, lo, off;
  napi_value buf;
  int32_t lanes = 16;
  if (argc < 2 || argc > 3 || napi_get_typedarray_info(env, argv[0], &tx, &lx, &dx, &buf, &off) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &to, &lo, &dout, &buf, &off) != napi_ok || tx != napi_float32_array || to != napi_float32_array || lo < lx ||
      (argc == 3 && (napi_get_value_int32(env, argv[2], &lanes) != napi_ok || (lanes != 8 && lanes != 16)))) return bp_fail(env, "tanh(x, out[, lanes]): Float32Arrays, out at least as long as x; lanes 8 or 16");
  map_args m = {dx, dout, lanes == 16 && bp_has_avx512()};
  bp_split(tanh_part, &m, lx, 16, m.wide ? 1.7 : 3.2);   // lanes at multiples of 16: the same vectors as one lane
  return NULL;
}

static napi_value tanh_lanes(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_int32(env, bp_has_avx512() ? 16 : 8, &v);
  return v;
}

static float *f32_arg(napi_env env, napi_value v, size_t *len) {
  return bp_view(env, v, napi_float32_array, len);
}

// the three Float32Array arguments of a kernel (a, b, out) with their lengths; 0 when there are not three
static int f32_three(napi_env env, napi_callback_info info, float *p[3], size_t len[3]) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 3) return 0;
  for (int i = 0; i < 3; i++)
    if (!(p[i] = f32_arg(env, argv[i], &len[i]))) return 0;
  return 1;
}

typedef struct { const float *x, *b; float *out; size_t n; } add_rows_args;

static void add_rows_part(void *ctx, size_t lo, size_t hi) {
  const add_rows_args *a = ctx;
  for (size_t r = lo * a->n; r < hi * a->n; r += a->n)
    for (size_t j = 0; j < a->n; j++) a->out[r + j] = a->x[r + j] + a->b[j];
}

// addRows(x, b, out): out = x + b with b (n values) added to every row of x (a multiple of n values). One
// float32 addition per entry, the one IEEE operation the wasm kernel does too: same bits.
static napi_value add_rows(napi_env env, napi_callback_info info) {
  float *p[3];
  size_t len[3];
  if (!f32_three(env, info, p, len) || len[1] == 0 || len[0] % len[1] != 0 || len[2] < len[0])
    return bp_fail(env, "addRows(x, b, out): Float32Arrays, x a whole number of rows of b's length, out as long as x");
  add_rows_args a = {p[0], p[1], p[2], len[1]};
  bp_split(add_rows_part, &a, len[0] / len[1], 1, 0.4 * len[1]);
  return NULL;
}

typedef struct { const float *x; float *out; size_t A, R, B; bool mean; } reduce_args;

// out[a, b] for a in [a0, a1) and b in [b0, b1)
// The sums of W (≤ 8) neighbouring columns from b0 over the R rows of xa (B values a row), each from 0 in the order
// of r, kept in registers: a constant W lets the compiler unroll the columns (the sums used to go through `out`,
// one store and load per addition). Columns never mix, so taking them eight at a time keeps every sum's order.
#define SUMS(W)                                                   \
  case W: {                                                       \
    float s[W] = {0};                                             \
    for (size_t r = 0; r < R; r++) {                              \
      const float *row = xa + r * B + b0;                         \
      for (int b = 0; b < W; b++) s[b] += row[b];                 \
    }                                                             \
    for (int b = 0; b < W; b++) o[b0 + b] = s[b];                 \
    return;                                                       \
  }
static void column_sums(const float *xa, size_t R, size_t B, size_t b0, size_t w, float *o) {
  switch (w) { SUMS(1) SUMS(2) SUMS(3) SUMS(4) SUMS(5) SUMS(6) SUMS(7) SUMS(8) }
}

static void reduce_range(const reduce_args *p, size_t a0, size_t a1, size_t b0, size_t b1) {
  const size_t R = p->R, B = p->B;
  for (size_t a = a0; a < a1; a++) {
    float *o = p->out + a * B;
    const float *xa = p->x + a * R * B;
    for (size_t b = b0; b < b1; b += 8) column_sums(xa, R, B, b, b1 - b < 8 ? b1 - b : 8, o);
    if (p->mean) {
      const float n = (float)R;
      for (size_t b = b0; b < b1; b++) o[b] = o[b] / n;
    }
  }
}

static void reduce_blocks(void *ctx, size_t lo, size_t hi) {
  const reduce_args *p = ctx;
  reduce_range(p, lo, hi, 0, p->B);
}

static void reduce_columns(void *ctx, size_t lo, size_t hi) {
  const reduce_args *p = ctx;
  reduce_range(p, 0, p->A, lo, hi);
}

// reduceAxis(x, A, R, B, mean, out): x seen as [A, R, B], out[a, b] = Σ_r x[a, r, b] (÷ R when mean), each sum in
// float32 from 0 in the order of r — the wasm Sum and Mean kernels' order (they transpose the axis innermost,
// then add each run left to right and divide by the count): same bits, without the transposed copy.
static napi_value reduce_axis(napi_env env, napi_callback_info info) {
  size_t argc = 6, lx, lo;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool mean = false;
  const float *x = argc == 6 ? f32_arg(env, argv[0], &lx) : NULL;
  float *out = x ? f32_arg(env, argv[5], &lo) : NULL;
  int32_t arb[3] = {-1, -1, -1};
  if (!out || !bp_ints(env, argv + 1, 3, arb) || napi_get_value_bool(env, argv[4], &mean) != napi_ok ||
      lx < (size_t)arb[0] * arb[1] * arb[2] || lo < (size_t)arb[0] * arb[2]) return bp_fail(env, "reduceAxis(x, A, R, B, mean, out): Float32Arrays, x of A·R·B values, out of A·B");
  reduce_args r = {x, out, arb[0], arb[1], arb[2], mean};
  // each output entry is one lane's sum, in the order of r: split the A blocks, or the B columns when A is 1
  if (r.A > 1) bp_split(reduce_blocks, &r, r.A, 1, 0.4 * r.R * r.B);
  else bp_split(reduce_columns, &r, r.B, 1, 0.4 * r.R);
  return NULL;
}

// binary(op, a, b, out): out[i] = a[i] op b[i] for op 0 +, 1 −, 2 ×, 3 a[i]² (b unused); a or b may hold a
// single value (a scalar), else as many values as out. One IEEE float32 operation per value, the one the wasm
// kernels do too: same bits. The lanes split the values.
typedef struct { const float *a, *b; float *out; int32_t op; bool one_a, one_b; } binary_args;

static void binary_part(void *ctx, size_t lo, size_t hi) {
  const binary_args *p = ctx;
  const float *a = p->a, *b = p->b;
  float *o = p->out;
  const float ca = a[0], cb = p->op == 3 ? 0.0f : b[0];
  switch (p->op * 4 + p->one_a * 2 + p->one_b) {
    case 0: for (size_t i = lo; i < hi; i++) o[i] = a[i] + b[i]; break;
    case 1: for (size_t i = lo; i < hi; i++) o[i] = a[i] + cb; break;
    case 2: for (size_t i = lo; i < hi; i++) o[i] = ca + b[i]; break;
    case 4: for (size_t i = lo; i < hi; i++) o[i] = a[i] - b[i]; break;
    case 5: for (size_t i = lo; i < hi; i++) o[i] = a[i] - cb; break;
    case 6: for (size_t i = lo; i < hi; i++) o[i] = ca - b[i]; break;
    case 8: for (size_t i = lo; i < hi; i++) o[i] = a[i] * b[i]; break;
    case 9: for (size_t i = lo; i < hi; i++) o[i] = a[i] * cb; break;
    case 10: for (size_t i = lo; i < hi; i++) o[i] = ca * b[i]; break;
    default: for (size_t i = lo; i < hi; i++) o[i] = a[i] * a[i]; break;   // 12: square
  }
}

static napi_value binary(napi_env env, napi_callback_info info) {
  size_t argc = 4, la = 0, lb = 0, lo = 0;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t op = -1;
  const float *a = argc == 4 ? f32_arg(env, argv[1], &la) : NULL, *b = a ? f32_arg(env, argv[2], &lb) : NULL;
  float *out = b ? f32_arg(env, argv[3], &lo) : NULL;
  if (!out || napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op > 3 || lo == 0 || (la != 1 && la != lo) || (lb != 1 && lb != lo) || (op == 3 && la != lo) || (la == 1 && lb == 1 && lo != 1))
    return bp_fail(env, "binary(op 0–3, a, b, out): Float32Arrays, a and b of one value or out's length (op 3: a as long as out)");
  binary_args p = {a, b, out, op, la == 1 && lo > 1, lb == 1 && lo > 1};
  if (op == 3) p.one_a = p.one_b = false;
  bp_split(binary_part, &p, lo, 8, 0.3);
  return NULL;
}

// sigmoidGrad(dy, y, out): out = dy·(y·(1 − y)), tfjs's Sigmoid gradient mul(dy, mul(y, sub(1, y))) in its order,
// each difference and product rounded to float32 (no contraction: binding.gyp), the IEEE operations its three
// wasm kernels do one after the other: same bits, in one pass (lib/perf/fused-grads.ts).
static napi_value sigmoid_grad(napi_env env, napi_callback_info info) {
  float *p[3];
  size_t len[3];
  if (!f32_three(env, info, p, len) || len[0] != len[1] || len[2] < len[1])
    return bp_fail(env, "sigmoidGrad(dy, y, out): Float32Arrays, dy as long as y, out at least as long");
  const float *dy = p[0], *y = p[1];
  float *out = p[2];
  for (size_t i = 0; i < len[1]; i++) {
    const float one_minus = 1.0f - y[i], slope = y[i] * one_minus;
    out[i] = dy[i] * slope;
  }
  return NULL;
}

// toFloat32(v, out[, back]): out[i] = (float)v[i], IEEE round to nearest, what a Float32Array's set does with
// float64 values; with back (a Float64Array, may be v itself; undefined: none) also back[i] = out[i]. toFloat64(x, out): out[i] =
// x[i], exact. The optimizer bridge (lib/perf/variable-bridge.ts) writes θ and reads ∇J this way: V8's typed-array
// conversions cost ~1 ns a value, these loops a fraction of that (same values).
static napi_value to_float32(napi_env env, napi_callback_info info) {
  size_t argc = 3, lv, lo, lb = 0;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double *v = argc >= 2 ? bp_view(env, argv[0], napi_float64_array, &lv) : NULL, *back = NULL;
  float *out = argc >= 2 ? f32_arg(env, argv[1], &lo) : NULL;
  napi_valuetype third = napi_undefined;
  if (argc == 3 && napi_typeof(env, argv[2], &third) == napi_ok && third != napi_undefined) back = bp_view(env, argv[2], napi_float64_array, &lb);
  if (argc < 2 || argc > 3 || !v || !out || lo < lv || (third != napi_undefined && (!back || lb < lv)))
    return bp_fail(env, "toFloat32(v, out[, back]): a Float64Array, a Float32Array at least as long (and a Float64Array at least as long)");
  for (size_t i = 0; i < lv; i++) out[i] = (float)v[i];
  if (back)
    for (size_t i = 0; i < lv; i++) back[i] = out[i];
  return NULL;
}

static napi_value to_float64(napi_env env, napi_callback_info info) {
  size_t argc = 2, lx, lo;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float *x = argc == 2 ? f32_arg(env, argv[0], &lx) : NULL;
  double *out = argc == 2 ? bp_view(env, argv[1], napi_float64_array, &lo) : NULL;
  if (!x || !out || lo < lx) return bp_fail(env, "toFloat64(x, out): a Float32Array and a Float64Array at least as long");
  for (size_t i = 0; i < lx; i++) out[i] = x[i];
  return NULL;
}

void define_elementwise_kernels(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"tanh", NULL, tanh_f32, NULL, NULL, NULL, napi_default, NULL},
      {"tanhLanes", NULL, tanh_lanes, NULL, NULL, NULL, napi_default, NULL},
      {"addRows", NULL, add_rows, NULL, NULL, NULL, napi_default, NULL},
      {"reduceAxis", NULL, reduce_axis, NULL, NULL, NULL, napi_default, NULL},
      {"binary", NULL, binary, NULL, NULL, NULL, napi_default, NULL},
      {"sigmoidGrad", NULL, sigmoid_grad, NULL, NULL, NULL, napi_default, NULL},
      {"toFloat32", NULL, to_float32, NULL, NULL, NULL, napi_default, NULL},
      {"toFloat64", NULL, to_float64, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
