{
  "targets": [
    {
      "target_name": "bp_blas",
      "sources": ["blas.c", "windows.c", "elementwise.c", "pool.c"],
      "cflags": ["-O2", "-ffp-contract=off", "-fno-tree-loop-distribute-patterns", "-Wno-psabi"],
      "libraries": ["-lopenblas", "-lpthread"]
    }
  ]
}
