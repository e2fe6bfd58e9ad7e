/**
 * How far an eigen-decomposition of a symmetric matrix A (row-major n × n) is from exact, in float64:
 *   residual      max_{i,j} |(A v_j)_i − λ_j v_{j,i}|       (A v = λ v)
 *   orthogonality max_{j,m} |v_jᵀ v_m − δ_jm|               (VᵀV = I)
 *   traceGap      |Σ λ_j − trace A|                          (all n pairs given)
 * for the pairs given (e.g. PCA's top k; traceGap only when all n are given).
 */
export function eigenResiduals(a: ArrayLike<number>, n: number, values: ArrayLike<number>, vectors: ArrayLike<number>[]): { residual: number; orthogonality: number; traceGap: number | undefined } {
  if (a.length !== n * n) throw new Error(`eigenResiduals: the matrix should have ${n}×${n} entries, got ${a.length}`);
  if (vectors.some((v) => v.length !== n)) throw new Error(`eigenResiduals: every eigenvector should have ${n} entries`);
  let residual = 0, orthogonality = 0;
  vectors.forEach((v, j) => {
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let m = 0; m < n; m++) av += a[i * n + m] * v[m];
      residual = Math.max(residual, Math.abs(av - values[j] * v[i]));
    }
    vectors.forEach((u, m) => {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += u[i] * v[i];
      orthogonality = Math.max(orthogonality, Math.abs(dot - (j === m ? 1 : 0)));
    });
  });
  let traceGap: number | undefined;
  if (vectors.length === n) {
    let trace = 0, sum = 0;
    for (let i = 0; i < n; i++) { trace += a[i * n + i]; sum += values[i]; }
    traceGap = Math.abs(sum - trace);
  }
  return { residual, orthogonality, traceGap };
}
