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

// Where two lanes each compute half of C's rows, OpenBLAS must give every entry the bits of the whole
// product. It does on most shapes (each entry is one k-ordered sum either way) but not on all: a half may fall
// below the size where OpenBLAS switches to its small-matrix kernels, which add in another order, and that
// size depends on the CPU OpenBLAS runs on. So each shape is tried once on made-up data, whole and in halves,
// and split only if the bits agree. The answers are kept in a small table; a shape that finds it full is not
// split.
#define SHAPES 1024
static struct { int32_t M, N, K, flags; } shapes[SHAPES];   // flags: 0 empty, else 16 | tA | tB << 1 | split << 2
static pthread_mutex_t shapes_lock = PTHREAD_MUTEX_INITIALIZER;

static int halves_agree(const product *p, size_t cut) {
  size_t na = (size_t)p->M * p->K, nb = (size_t)p->K * p->N, nc = (size_t)p->M * p->N;
  float *a = malloc(sizeof(float) * na), *b = malloc(sizeof(float) * nb), *c1 = calloc(nc, sizeof(float)), *c2 = calloc(nc, sizeof(float));
  int same = 0;
  if (a && b && c1 && c2) {
    uint32_t r = 2463534242u;   // xorshift: values in [-1, 1) with every mantissa bit in use
    for (size_t i = 0; i < na + nb; i++) {
      r ^= r << 13, r ^= r >> 17, r ^= r << 5;
      float v = (float)((double)r / 2147483648.0 - 1.0);
      if (i < na) a[i] = v;
      else b[i - na] = v;
    }
    product q = *p;
    q.a = a, q.b = b, q.beta = 0.0f;
    q.c = c1;
    product_rows(&q, 0, p->M);
    q.c = c2;
    product_rows(&q, 0, cut);
    product_rows(&q, cut, p->M);
    same = memcmp(c1, c2, sizeof(float) * nc) == 0;
  }
  free(a), free(b), free(c1), free(c2);
  return same;
}

static int may_split(const product *p, size_t cut) {
  int32_t form = (p->tA ? 1 : 0) | (p->tB ? 2 : 0);
  uint32_t h = ((uint32_t)p->M * 2654435761u) ^ ((uint32_t)p->N * 40503u) ^ ((uint32_t)p->K * 97u) ^ (uint32_t)form;
  int answer = 0;
  pthread_mutex_lock(&shapes_lock);
  for (int i = 0; i < SHAPES; i++) {
    int slot = (h + i) % SHAPES;
    if (shapes[slot].flags == 0) {
      answer = halves_agree(p, cut);
      shapes[slot].M = p->M, shapes[slot].N = p->N, shapes[slot].K = p->K, shapes[slot].flags = 16 | form | (answer ? 4 : 0);
      break;
    }
    if (shapes[slot].M == p->M && shapes[slot].N == p->N && shapes[slot].K == p->K && (shapes[slot].flags & 3) == form) {
      answer = (shapes[slot].flags & 4) != 0;
      break;
    }
  }
  pthread_mutex_unlock(&shapes_lock);
  return answer;
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
  // halves at a multiple of 8 rows; ~0.03 ns per multiply-add on one lane
  size_t cut = (size_t)(M / 2) & ~(size_t)7;
  if (bp_lanes() == 2 && cut > 0 && (double)M * N * K * 0.03 >= 20000.0 && may_split(&p, cut)) bp_run2(product_rows, &p, M, cut);
  else product_rows(&p, 0, M);
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
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  define_window_kernels(env, exports);        // im2col, col2im, pooling way back (windows.c)
  define_elementwise_kernels(env, exports);   // tanh as wasm computes it (elementwise.c)
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
