"""OpenBLAS sgemm (through numpy) on the shapes of bench/gemm.ts, for a side-by-side ratio.

Usage: python3 bench/_openblas.py '<json list of [m, n, k, transA, transB]>' <samples>
Prints one JSON object per shape: {"m", "n", "k", "transA", "transB", "gflops"} (median).
Run by bench/gemm.ts with OPENBLAS_NUM_THREADS set and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
removed from this process's environment (they halve OpenBLAS on this machine).
"""
import json
import sys
import time

import numpy as np


def bench(m, n, k, trans_a, trans_b, samples):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    # Transposed views are passed to sgemm as transpose flags, not copied.
    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    flops = 2.0 * m * n * k
    # Calls per sample: enough for ~2 ms, so timer resolution does not matter.
    t0 = time.perf_counter()
    np.matmul(op_a, op_b, out=c)
    one = max(time.perf_counter() - t0, 1e-7)
    iters = max(1, int(2e-3 / one))
    for _ in range(3 * iters):
        np.matmul(op_a, op_b, out=c)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(iters):
            np.matmul(op_a, op_b, out=c)
        times.append((time.perf_counter() - t0) / iters)
    times.sort()
    return flops / times[len(times) // 2] / 1e9


def main():
    shapes = json.loads(sys.argv[1])
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    for m, n, k, ta, tb in shapes:
        g = bench(m, n, k, bool(ta), bool(tb), samples)
        print(json.dumps({"m": m, "n": n, "k": k, "transA": bool(ta), "transB": bool(tb), "gflops": g}), flush=True)


if __name__ == "__main__":
    main()
