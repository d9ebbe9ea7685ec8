"""Stage 3: training images/s of the paper's ImageNet model (224 x 224,
44.9 M parameters) in mixed bfloat16, ours against perceiver-pytorch.

    KERAS_BACKEND=jax python -m benchmarks.gpu.imagenet_throughput \
        --out throughput-jax.json
    KERAS_BACKEND=torch python -m benchmarks.gpu.imagenet_throughput \
        --reference --out throughput-perceiver_pytorch.json

`kp.Perceiver` is built and timed as `benchmarks/throughput.py` does
(`train_on_batch`, Adam; compiled with XLA on JAX, eager on torch), the
reference as `benchmarks/perceiver_pytorch_throughput.py` does (the same
configuration, MLPs with `mult=1`, `torch.autocast` to bfloat16), both on
the GPU. The batch starts at `start_batch` and doubles until a batch does
not fit, `max_batch` is reached, or the next try would pass the time cap
(predicted as twice the last try, compilation included; the cap is
`time_cap_s`, or 3/4 of the step's time limit that run.sh sets in
`GPU_BENCH_STEP_LIMIT_S` if that is less); every try is
recorded with its images/s and peak GPU memory, and the best is reported.
"""

import importlib.util
import os
import time

from benchmarks.gpu import environment, sizes
from benchmarks.timing import time_steps


def keras_perceiver_step(config, dtype):
    """`(params, train_step)` of `kp.Perceiver` on the fixed batch."""
    import keras

    from benchmarks import throughput

    keras.config.set_dtype_policy(dtype)
    model, images, labels = throughput.model_and_batch(
        config, jit_compile=keras.config.backend() != "torch")
    return model.count_params(), lambda: model.train_on_batch(images, labels)


def perceiver_pytorch_step(config, dtype):
    """`(params, train_step)` of perceiver-pytorch on the fixed batch."""
    import torch

    from benchmarks import perceiver_pytorch_throughput as reference

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, train_step, _ = reference.build_steps(config, dtype, mlp_mult=1,
                                                 device=device)
    return sum(p.numel() for p in model.parameters()), train_step


def try_batch(build_step, settings, batch):
    """One batch size: its images/s and peak memory."""
    environment.reset_peak_memory()
    params, step = build_step(dict(settings["config"], batch_size=batch),
                              settings["dtype"])
    train = time_steps(step, **settings["timing"])
    return {"batch_size": batch, "params": params, "train": train,
            "images_per_s": batch / train["median_s"],
            "peak_memory": environment.peak_memory()}


def search(build_step, settings, record):
    """Doubles the batch (see the module docstring); `record` gets each
    try. Returns why the search stopped."""
    start = time.perf_counter()
    batch = settings["start_batch"]
    cap = min(settings["time_cap_s"], 0.75 * float(
        os.environ.get("GPU_BENCH_STEP_LIMIT_S", "inf")))
    while True:
        begun = time.perf_counter()
        try:
            record(try_batch(build_step, settings, batch))
        except Exception as error:  # Only running out of memory ends it.
            if not environment.is_out_of_memory(error):
                raise
            record({"batch_size": batch, "oom": str(error)[:300]})
            return f"batch {batch} does not fit"
        finally:
            environment.release_memory()
        if batch * 2 > settings["max_batch"]:
            return f"reached the largest batch tried, {batch}"
        elapsed = time.perf_counter() - start
        if elapsed + 2 * (time.perf_counter() - begun) > cap:
            return f"time cap ({cap:.0f} s)"
        batch *= 2


def main():
    args = environment.parse_args(__doc__, reference=dict(
        action="store_true", help="perceiver-pytorch instead of ours"))
    settings = sizes.for_stage("throughput", args.smoke)
    results = {"model": ("perceiver_pytorch" if args.reference
                         else "keras_perceiver"),
               "dtype": settings["dtype"], "config": settings["config"],
               "tries": []}
    if args.reference and importlib.util.find_spec(
        "perceiver_pytorch"
    ) is None:
        results["skipped"] = "perceiver-pytorch is not installed"
        environment.write_json(args.out, results)
        return
    results["environment"] = environment.describe()

    def record(result):
        results["tries"].append(result)
        measured = [r for r in results["tries"] if "images_per_s" in r]
        if measured:
            results["best"] = max(measured, key=lambda r: r["images_per_s"])
        environment.write_json(args.out, results)

    build_step = (perceiver_pytorch_step if args.reference
                  else keras_perceiver_step)
    results["stopped"] = search(build_step, settings, record)
    environment.write_json(args.out, results)


if __name__ == "__main__":
    main()
