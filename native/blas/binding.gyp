{
  "targets": [
    {
      "target_name": "bp_blas",
      "sources": ["blas.c"],
      "cflags": ["-O2"],
      "libraries": ["-lopenblas"]
    }
  ]
}
