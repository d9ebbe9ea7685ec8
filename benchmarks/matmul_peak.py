"""Measures this machine's matrix-multiply peak in float32 and bfloat16.

Square matmuls through NumPy, PyTorch and JAX; the fastest library for each
dtype gives the peak that utilisation is measured against. Prints the result
as one JSON line (see `timing.emit`).

    python -m benchmarks.matmul_peak [--quick]
"""

import argparse

import numpy as np

from benchmarks.timing import emit, time_steps


def numpy_matmul(size, dtype):
    if dtype != "float32":
        return None
    a = np.random.default_rng(0).standard_normal((size, size), dtype="float32")
    return lambda: a @ a


def torch_matmul(size, dtype):
    import torch

    a = torch.randn(size, size).to(getattr(torch, dtype))
    return lambda: torch.mm(a, a)


def jax_matmul(size, dtype):
    import jax
    import jax.numpy as jnp

    a = jnp.asarray(np.random.default_rng(0).standard_normal((size, size)),
                    dtype=dtype)
    matmul = jax.jit(lambda x: x @ x)
    return lambda: matmul(a).block_until_ready()


LIBRARIES = {"numpy": numpy_matmul, "torch": torch_matmul, "jax": jax_matmul}


def measure(size, repeats):
    measurements = []
    for dtype in ("float32", "bfloat16"):
        for library, make in LIBRARIES.items():
            step = make(size, dtype)
            if step is None:
                continue
            seconds = time_steps(step, warmup=2, repeats=repeats, steps=1)
            measurements.append({
                "library": library,
                "dtype": dtype,
                "size": size,
                "median_s": seconds["median_s"],
                "gflops": 2 * size**3 / seconds["median_s"] / 1e9,
            })
    peak = {
        dtype: max(
            (m for m in measurements if m["dtype"] == dtype),
            key=lambda m: m["gflops"],
        )
        for dtype in ("float32", "bfloat16")
    }
    return {"kind": "matmul_peak", "measurements": measurements, "peak": peak}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    emit(measure(size=1024 if args.quick else 2048,
                 repeats=3 if args.quick else 7))


if __name__ == "__main__":
    main()
