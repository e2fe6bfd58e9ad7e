// sgemm for backprop-lab's wasm backend: OpenBLAS's cblas_sgemm on Float32Arrays (views of the wasm heap,
// so a tensor's data is multiplied in place, without a copy). Row-major, as tfjs stores tensors.
// sgemm(transA, transB, M, N, K, A, B, C, beta): C = op(A)·op(B) + beta·C, op(A) M×K, op(B) K×N, C M×N.
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>

#include "windows.h"

extern void openblas_set_num_threads(int);

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
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, a, tA ? M : K, b, tB ? K : N, (float)beta, c, N);
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, props);
  define_window_kernels(env, exports);        // im2col, col2im, pooling way back (windows.c)
  define_elementwise_kernels(env, exports);   // tanh as wasm computes it (elementwise.c)
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
