{
  "targets": [
    {
      "target_name": "bp_blas",
      "sources": ["blas.c", "windows.c", "elementwise.c"],
      "cflags": ["-O2", "-ffp-contract=off", "-Wno-psabi"],
      "libraries": ["-lopenblas"]
    }
  ]
}
