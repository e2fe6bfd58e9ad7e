// The kernels of windows.c and elementwise.c, added to the exports of the one addon (blas.c's init).
#ifndef BP_WINDOWS_H
#define BP_WINDOWS_H
#include <node_api.h>
void define_window_kernels(napi_env env, napi_value exports);
void define_elementwise_kernels(napi_env env, napi_value exports);
// the data of a typed array of the wanted type (its length in *len), or NULL (windows.c)
void *bp_view(napi_env env, napi_value v, napi_typedarray_type want, size_t *len);
// throws a TypeError with `msg` and returns NULL, for `return bp_fail(env, "...")` (windows.c)
napi_value bp_fail(napi_env env, const char *msg);
// reads argv[0..n) as int32 ≥ 0 into out; 0 when one is not (windows.c)
int bp_ints(napi_env env, napi_value *argv, int n, int32_t *out);
// whether this CPU runs AVX-512F and FMA code (read once; windows.c): elementwise.c's tanh, blas.c's small products
int bp_has_avx512(void);
// out (cols × rows) = aᵀ (a: rows × cols), the tiled copy of transpose2d (windows.c)
void bp_transpose(const float *a, size_t rows, size_t cols, float *out);
#endif
