// sgemm for backprop-lab's wasm backend: OpenBLAS's cblas_sgemm on Float32Arrays (views of the wasm heap,
// so a tensor's data is multiplied in place, without a copy). Row-major, as tfjs stores tensors.
// sgemm(transA, transB, M, N, K, A, B, C, beta): C = op(A)·op(B) + beta·C, op(A) M×K, op(B) K×N, C M×N.
#include <node_api.h>
#include <cblas.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "windows.h"

extern void openblas_set_num_threads(int);

// One product, or rows [lo, hi) of it: C = op(A)·op(B) + beta·C
typedef struct { bool tA, tB; int32_t M, N, K; const float *a, *b; float *c; float beta; } product;

static void product_rows(void *ctx, size_t lo, size_t hi) {
  const product *p = ctx;
  const float *a = p->a + (p->tA ? lo : lo * (size_t)p->K);   // op(A)'s row lo: a column of a stored Aᵀ
  cblas_sgemm(CblasRowMajor, p->tA ? CblasTrans : CblasNoTrans, p->tB ? CblasTrans : CblasNoTrans, (int)(hi - lo), p->N, p->K, 1.0f, a, p->tA ? p->M : p->K,
              p->b, p->tB ? p->K : p->N, p->beta, p->c + lo * (size_t)p->N, p->N);
}

// Two questions asked of OpenBLAS, once per shape and form, on made-up data; a kernel takes a short cut only
// where the answer is yes. SPLIT: where two lanes each compute half of C's rows, does every entry get the
// whole product's bits? DIRECT: does the transposed form (A or B given transposed) give the bits of the plain
// form on explicitly transposed copies (the values the layers were recorded with)? Both hold on most shapes
// (each entry is one k-ordered sum) but not on all: below a size that depends on the CPU, OpenBLAS switches
// to small-matrix kernels that add in another order, for some forms only. The answers are kept in a small
// table; a question that finds it full is answered no.
enum { SPLIT = 1, DIRECT = 2 };
#define SHAPES 1024
static struct { int32_t M, N, K, code, answer; } shapes[SHAPES];   // code: 0 empty, else 16 | tA | tB << 1 | question << 2
static pthread_mutex_t shapes_lock = PTHREAD_MUTEX_INITIALIZER;

static float *made_up(size_t n, uint32_t *r) {   // xorshift: values in [-1, 1) with every mantissa bit in use
  float *x = malloc(sizeof(float) * (n ? n : 1));
  if (x)
    for (size_t i = 0; i < n; i++) {
      *r ^= *r << 13, *r ^= *r >> 17, *r ^= *r << 5;
      x[i] = (float)((double)*r / 2147483648.0 - 1.0);
    }
  return x;
}

static float *transposed(const float *x, size_t rows, size_t cols) {
  float *t = malloc(sizeof(float) * rows * cols);
  if (t) bp_transpose(x, rows, cols, t);
  return t;
}

static int agrees(int question, const product *p, size_t cut) {
  const size_t M = p->M, N = p->N, K = p->K;
  uint32_t r = 2463534242u;
  float *a = made_up(M * K, &r), *b = made_up(K * N, &r), *c1 = calloc(M * N, sizeof(float)), *c2 = calloc(M * N, sizeof(float));
  float *ta = NULL, *tb = NULL;
  int same = 0;
  if (a && b && c1 && c2) {
    product q = *p;
    q.a = a, q.b = b, q.beta = 0.0f, q.c = c1;
    product_rows(&q, 0, M);
    if (question == SPLIT) {
      q.c = c2;
      product_rows(&q, 0, cut);
      product_rows(&q, cut, M);
      same = 1;
    } else {   // the plain form on copies: op(A) = Aᵀ stored K × M becomes an M × K matrix, op(B) likewise
      ta = p->tA ? transposed(a, K, M) : NULL, tb = p->tB ? transposed(b, N, K) : NULL;
      if ((!p->tA || ta) && (!p->tB || tb)) {
        product plain = {false, false, p->M, p->N, p->K, ta ? ta : a, tb ? tb : b, c2, 0.0f};
        product_rows(&plain, 0, M);
        same = 1;
      }
    }
    same = same && memcmp(c1, c2, sizeof(float) * M * N) == 0;
  }
  free(a), free(b), free(c1), free(c2), free(ta), free(tb);
  return same;
}

static int answer(int question, const product *p, size_t cut) {
  int32_t code = 16 | (p->tA ? 1 : 0) | (p->tB ? 2 : 0) | question << 2;
  uint32_t h = ((uint32_t)p->M * 2654435761u) ^ ((uint32_t)p->N * 40503u) ^ ((uint32_t)p->K * 97u) ^ (uint32_t)code;
  int yes = 0;
  pthread_mutex_lock(&shapes_lock);
  for (int i = 0; i < SHAPES; i++) {
    int slot = (h + i) % SHAPES;
    if (shapes[slot].code == 0) {
      yes = agrees(question, p, cut);
      shapes[slot].M = p->M, shapes[slot].N = p->N, shapes[slot].K = p->K, shapes[slot].code = code, shapes[slot].answer = yes;
      break;
    }
    if (shapes[slot].M == p->M && shapes[slot].N == p->N && shapes[slot].K == p->K && shapes[slot].code == code) {
      yes = shapes[slot].answer;
      break;
    }
  }
  pthread_mutex_unlock(&shapes_lock);
  return yes;
}

static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 9) return bp_fail(env, "sgemm(transA, transB, M, N, K, A, B, C, beta)");
  bool tA, tB;
  int32_t M, N, K;
  double beta;
  if (napi_get_value_bool(env, argv[0], &tA) != napi_ok || napi_get_value_bool(env, argv[1], &tB) != napi_ok) return bp_fail(env, "sgemm: transA and transB must be booleans");
  if (napi_get_value_int32(env, argv[2], &M) != napi_ok || napi_get_value_int32(env, argv[3], &N) != napi_ok || napi_get_value_int32(env, argv[4], &K) != napi_ok || M <= 0 || N <= 0 || K <= 0)
    return bp_fail(env, "sgemm: M, N and K must be positive integers");
  if (napi_get_value_double(env, argv[8], &beta) != napi_ok) return bp_fail(env, "sgemm: beta must be a number");
  size_t la, lb, lc;
  float *a = bp_view(env, argv[5], napi_float32_array, &la), *b = bp_view(env, argv[6], napi_float32_array, &lb), *c = bp_view(env, argv[7], napi_float32_array, &lc);
  if (!a || !b || !c) return bp_fail(env, "sgemm: A, B and C must be Float32Arrays");
  if (la < (size_t)M * K || lb < (size_t)K * N || lc < (size_t)M * N) return bp_fail(env, "sgemm: an array is shorter than its matrix");
  product p = {tA, tB, M, N, K, a, b, c, (float)beta};
  // halves (at a multiple of 8 rows from 64 rows on) from ~8 µs of work (~0.03 ns per multiply-add on one
  // lane): the worker is awake during training, and a hand-off to it costs well under a microsecond
  size_t cut = M >= 64 ? (size_t)(M / 2) & ~(size_t)7 : (size_t)(M / 2);
  if (bp_lanes() == 2 && cut > 0 && (double)M * N * K * 0.03 >= 8000.0 && answer(SPLIT, &p, cut)) bp_run2(product_rows, &p, M, cut);
  else product_rows(&p, 0, M);
  return NULL;
}

// Aᵀ B (A stored K × M, B K × N) as two sums over halves of K, each lane one half, then added: for the filter
// gradient X̃ᵀ δ of tfjs's conv ops, whose K (the rows of X̃) is long and M × N small (LeNet-5's C1: 25 × 6 over
// 50 176 rows), so that each lane reads half of X̃ where a split of C's rows has both read all of it. The halves
// are computed and added the same way on one lane as on two (same bits); the sum order is not OpenBLAS's own,
// so only kernels that need tfjs's values within float32 rounding use it.
typedef struct { int32_t M, N, K, h; const float *a, *b; float *c, *c2; int small; } halves;

#if defined(__x86_64__)
#include <immintrin.h>
// Aᵀ B over rows [k0, k1) for M ≤ 32 and N ≤ 8 with AVX-512: C's 32 × 8 in 16 registers, one row of A (two
// masked loads) times each of B's row values per step. OpenBLAS packs and blocks for large M × N; for C1's
// 25 × 6 over 25 088 rows it ran at ~15 GFLOP/s, this loop at the speed X̃ comes from memory.
__attribute__((target("avx512f,fma"))) static void small_tn(const float *a, const float *b, float *c, int32_t M, int32_t N, int32_t k0, int32_t k1) {
  __m512 lo[8], hi[8];
  for (int n = 0; n < 8; n++) lo[n] = hi[n] = _mm512_setzero_ps();
  const __mmask16 m0 = M >= 16 ? 0xffff : (__mmask16)((1u << M) - 1), m1 = M > 16 ? (__mmask16)((1u << (M - 16)) - 1) : 0;
  for (int32_t k = k0; k < k1; k++) {
    const float *ar = a + (size_t)k * M, *br = b + (size_t)k * N;
    const __m512 x0 = _mm512_maskz_loadu_ps(m0, ar), x1 = _mm512_maskz_loadu_ps(m1, ar + 16);
    for (int n = 0; n < 8; n++) {
      const __m512 bn = _mm512_set1_ps(n < N ? br[n] : 0.0f);
      lo[n] = _mm512_fmadd_ps(x0, bn, lo[n]);
      hi[n] = _mm512_fmadd_ps(x1, bn, hi[n]);
    }
  }
  float t[8][32];
  for (int n = 0; n < 8; n++) _mm512_storeu_ps(t[n], lo[n]), _mm512_storeu_ps(t[n] + 16, hi[n]);
  for (int32_t m = 0; m < M; m++)
    for (int32_t n = 0; n < N; n++) c[(size_t)m * N + n] = t[n][m];
}
#else
static void small_tn(const float *a, const float *b, float *c, int32_t M, int32_t N, int32_t k0, int32_t k1) { (void)a, (void)b, (void)c, (void)M, (void)N, (void)k0, (void)k1; }
#endif

static void half_sum(void *ctx, size_t lo, size_t hi) {
  const halves *q = ctx;
  for (size_t i = lo; i < hi; i++) {
    int32_t k0 = i ? q->h : 0, k1 = i ? q->K : q->h;
    if (q->small) {
      small_tn(q->a, q->b, i ? q->c2 : q->c, q->M, q->N, k0, k1);
      continue;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, q->M, q->N, k1 - k0, 1.0f, q->a + (size_t)k0 * q->M, q->M, q->b + (size_t)k0 * q->N, q->N, 0.0f,
                i ? q->c2 : q->c, q->N);
  }
}

// sgemmTnHalves(M, N, K, A, B, C): C = Aᵀ B in two halves of K
static napi_value sgemm_tn_halves(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t mnk[3];
  if (argc != 6 || !bp_ints(env, argv, 3, mnk) || mnk[0] <= 0 || mnk[1] <= 0 || mnk[2] < 2) return bp_fail(env, "sgemmTnHalves(M, N, K, A, B, C): M, N positive, K at least 2");
  size_t la, lb, lc;
  float *a = bp_view(env, argv[3], napi_float32_array, &la), *b = bp_view(env, argv[4], napi_float32_array, &lb), *c = bp_view(env, argv[5], napi_float32_array, &lc);
  const size_t M = mnk[0], N = mnk[1], K = mnk[2];
  if (!a || !b || !c || la < M * K || lb < K * N || lc < M * N) return bp_fail(env, "sgemmTnHalves: A (K × M), B (K × N) and C (M × N) must be Float32Arrays of their sizes");
  float *c2 = malloc(sizeof(float) * M * N);
  if (!c2) return bp_fail(env, "sgemmTnHalves: out of memory");
  halves q = {mnk[0], mnk[1], mnk[2], mnk[2] / 2, a, b, c, c2, mnk[0] <= 32 && mnk[1] <= 8 && bp_has_avx512()};
  bp_split(half_sum, &q, 2, 1, 0.015 * (double)M * N * K);   // one lane below ~20 µs of work (~0.03 ns a multiply-add)
  for (size_t i = 0; i < M * N; i++) c[i] += c2[i];
  free(c2);
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) return bp_fail(env, "setThreads(n): n ≥ 1");
  openblas_set_num_threads(n);
  return NULL;
}

// sameAsTransposed(tA, tB, M, N, K): whether sgemm's transposed form gives, on this shape, the bits of the
// plain form on explicitly transposed copies (the DIRECT question above), so that the copy can be skipped
static napi_value same_as_transposed(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool tA, tB;
  int32_t mnk[3];
  if (argc != 5 || napi_get_value_bool(env, argv[0], &tA) != napi_ok || napi_get_value_bool(env, argv[1], &tB) != napi_ok || !bp_ints(env, argv + 2, 3, mnk) || !mnk[0] || !mnk[1] || !mnk[2])
    return bp_fail(env, "sameAsTransposed(transA, transB, M, N, K): booleans and positive sizes");
  product p = {tA, tB, mnk[0], mnk[1], mnk[2], NULL, NULL, NULL, 0.0f};
  napi_value v;
  napi_get_boolean(env, (tA || tB) && answer(DIRECT, &p, 0), &v);
  return v;
}

// setLanes(n[, patient]): 1 or 2 lanes for the kernels that split their work (pool.h); lanes() reads it back.
// patient (tests): the second part always waits for the worker
static napi_value set_lanes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t n;
  bool patient = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1 || n > 2 || (argc > 1 && napi_get_value_bool(env, argv[1], &patient) != napi_ok))
    return bp_fail(env, "setLanes(n, patient?): n is 1 or 2, patient a boolean");
  bp_set_lanes(n);
  bp_set_patient(patient);
  return NULL;
}

static napi_value lanes(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_int32(env, bp_lanes(), &v);
  return v;
}

// takeSplits(): how many kernel calls used both lanes since the previous call
static napi_value take_splits(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_uint32(env, bp_take_splits(), &v);
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"setLanes", NULL, set_lanes, NULL, NULL, NULL, napi_default, NULL},
      {"lanes", NULL, lanes, NULL, NULL, NULL, napi_default, NULL},
      {"takeSplits", NULL, take_splits, NULL, NULL, NULL, napi_default, NULL},
      {"sameAsTransposed", NULL, same_as_transposed, NULL, NULL, NULL, napi_default, NULL},
      {"sgemmTnHalves", NULL, sgemm_tn_halves, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  define_window_kernels(env, exports);        // im2col, col2im, pooling way back (windows.c)
  define_elementwise_kernels(env, exports);   // tanh as wasm computes it (elementwise.c)
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
