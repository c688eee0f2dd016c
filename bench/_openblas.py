"""OpenBLAS sgemm (through numpy) as a timing server for bench/gemm.ts, which times each shape
here and then natively, back to back, so both see about the same machine load.

Protocol: each stdin line "m n k transA transB samples" (0/1 flags) → one stdout line of
`samples` numbers, the seconds per call of np.matmul on that shape, each timed over a batch of
calls lasting ~5 ms, after a warm-up. Run with OPENBLAS_NUM_THREADS set and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
removed from this process's environment (they halve OpenBLAS on this machine).
"""
import sys
import time

import numpy as np

cache = {}


def prepare(m, n, k, trans_a, trans_b):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    # Transposed views reach sgemm as transpose flags, not copies.
    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    t0 = time.perf_counter()
    np.matmul(op_a, op_b, out=c)
    one = max(time.perf_counter() - t0, 1e-7)
    iters = max(1, int(5e-3 / one))
    for _ in range(3 * iters):
        np.matmul(op_a, op_b, out=c)
    return op_a, op_b, c, iters


def main():
    for line in sys.stdin:
        m, n, k, ta, tb, samples = (int(v) for v in line.split())
        key = (m, n, k, ta, tb)
        if key not in cache:
            cache[key] = prepare(m, n, k, bool(ta), bool(tb))
        op_a, op_b, c, iters = cache[key]
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            for _ in range(iters):
                np.matmul(op_a, op_b, out=c)
            times.append((time.perf_counter() - t0) / iters)
        print(" ".join(str(t) for t in times), flush=True)


if __name__ == "__main__":
    main()
