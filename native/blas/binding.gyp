{
  "targets": [
    {
      "target_name": "bp_blas",
      "sources": ["blas.c", "windows.c"],
      "cflags": ["-O2", "-ffp-contract=off"],
      "libraries": ["-lopenblas"]
    }
  ]
}
