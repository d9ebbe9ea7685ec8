"""Where a PyTorch training step's time goes: ours beside perceiver-pytorch.

    python -m benchmarks.torch_profile                  # medium, mixed bf16
    python -m benchmarks.torch_profile --dtype float32 --threads 2

Builds the two models of the throughput comparison on the same batch:
`kp.Perceiver` on the Keras torch backend (`throughput.model_and_batch`,
eager) and perceiver-pytorch (`perceiver_pytorch_throughput.build_steps`).
For each it times `--steps` training steps after three warm-up steps, then
profiles three more with `torch.profiler` and prints the operators' self
time per step, largest first, how much of it is matrix products
(`aten::mm`, `aten::bmm`, `aten::addmm`), and the matrix products' time
per call by input shapes. With one thread (the default)
the operators' times add up to about the step; with two threads on two
cores they overlap. `--fixed-cost` also times both models with the
configuration's structure (blocks, self-attends, heads) but tiny tensors
(`tiny_config`): what a step costs that does not grow with the tensors,
Python, Keras and operator dispatch. Finding 11 in benchmarks/README.md
came from this.
Needs perceiver-pytorch (`pip install -e .[bench]`); sets `KERAS_BACKEND`
to torch itself.
"""

import argparse
import os
import time

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402
import torch  # noqa: E402

from benchmarks import configs  # noqa: E402
from benchmarks.throughput import model_and_batch  # noqa: E402
from keras_perceiver.training.regional_compile import (  # noqa: E402
    compile_repeated_blocks)

MATMULS = ("aten::mm", "aten::bmm", "aten::addmm")
PROFILED_STEPS = 3
WARMUP_STEPS = 3
# Tiny steps are short and noisy: time many.
FIXED_COST_STEPS = 50


def keras_perceiver_step(config, dtype, jit_compile=False,
                         compile_blocks=False):
    """A training step of `kp.Perceiver` on the torch backend, eager, under
    `torch.compile` (`jit_compile=True`) or with its repeated blocks
    compiled (`compile_blocks=True`, `compile_repeated_blocks`)."""
    keras.config.set_dtype_policy(dtype)
    model, images, labels = model_and_batch(config, jit_compile)
    if compile_blocks:
        compile_repeated_blocks(model)
    return lambda: model.train_on_batch(images, labels)


def perceiver_pytorch_step(config, dtype):
    from benchmarks.perceiver_pytorch_throughput import build_steps

    _, train_step, _ = build_steps(config, dtype, mlp_mult=1)
    return train_step


def tiny_config(config):
    """`config` with its layers and heads but 8 latents of width 16, a 2x2
    single-channel image and a batch of 1."""
    return dict(config, image_shape=(2, 2, 1), num_latents=8, latent_dim=16,
                batch_size=1)


def mean_seconds(step, steps):
    """Mean seconds per call of `step` over `steps` calls."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def seconds_per_step(step, steps):
    """`mean_seconds` after `WARMUP_STEPS` untimed calls."""
    for _ in range(WARMUP_STEPS):
        step()
    return mean_seconds(step, steps)


def profile(step, steps):
    """Seconds per step, each operator's self milliseconds per step, and
    each matrix product's `(operator, shapes, calls per step, µs per
    call)`, largest total first."""
    seconds = seconds_per_step(step, steps)
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities,
                                record_shapes=True) as profiler:
        for _ in range(PROFILED_STEPS):
            step()
    per_operator = {
        event.key: event.self_cpu_time_total / 1e3 / PROFILED_STEPS
        for event in profiler.key_averages()
    }
    products = sorted(
        (event for event in profiler.key_averages(group_by_input_shape=True)
         if event.key in MATMULS),
        key=lambda event: -event.self_cpu_time_total,
    )
    matmul_shapes = [
        (event.key, event.input_shapes, event.count / PROFILED_STEPS,
         event.self_cpu_time_total / event.count)
        for event in products
    ]
    return seconds, per_operator, matmul_shapes


def render(name, seconds, per_operator, matmul_shapes, top):
    total = sum(per_operator.values())
    matmul = sum(per_operator.get(key, 0.0) for key in MATMULS)
    lines = [
        f"{name}: {seconds * 1e3:.0f} ms per step; operators "
        f"{total:.0f} ms, of which matrix products {matmul:.0f} ms "
        f"({matmul / total:.0%}) and the rest {total - matmul:.0f} ms"
    ]
    ranked = sorted(per_operator.items(), key=lambda item: -item[1])
    lines += [f"  {ms:8.1f} ms  {key}" for key, ms in ranked[:top]]
    lines.append("  matrix products by input shapes:")
    lines += [
        f"  {calls:6.0f} calls of {microseconds:7.0f} µs  {key} {shapes}"
        for key, shapes, calls, microseconds in matmul_shapes[:top // 2]
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--config", default="medium",
                        choices=sorted(configs.THROUGHPUT))
    parser.add_argument("--dtype", default="mixed_bfloat16",
                        choices=configs.DTYPES)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5,
                        help="timed steps per model")
    parser.add_argument("--top", type=int, default=20,
                        help="operators listed per model")
    parser.add_argument("--fixed-cost", action="store_true",
                        help="also time both models with tiny tensors")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = configs.THROUGHPUT[args.config]
    print(f"{args.config}, {args.dtype}, {args.threads} thread(s)")
    models = (("keras-perceiver (torch)", keras_perceiver_step),
              ("perceiver-pytorch", perceiver_pytorch_step))
    for name, make_step in models:
        print(render(name, *profile(make_step(config, args.dtype),
                                    args.steps), args.top))
    if args.fixed_cost:
        for name, make_step in models:
            step = make_step(tiny_config(config), args.dtype)
            seconds = seconds_per_step(step, FIXED_COST_STEPS)
            print(f"{name}, tiny tensors: {seconds * 1e3:.1f} ms per step")


if __name__ == "__main__":
    main()
