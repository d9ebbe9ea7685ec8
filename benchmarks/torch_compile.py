"""The torch backend eager and under `torch.compile`, beside perceiver-pytorch.

    python -m benchmarks.torch_compile                        # mixed bf16
    python -m benchmarks.torch_compile --dtype float32 --configs medium

For each configuration of `configs.THROUGHPUT` it builds, in one process,
`kp.Perceiver` on the Keras torch backend three times, eager, with the
whole step compiled by `jit_compile=True` (Keras' `torch.compile`) and
with its repeated blocks compiled (`compile_repeated_blocks`, an eager
step: what `--jit-compile` and the recipes' `jit_compile=True` run on
torch), and perceiver-pytorch (eager, `torch.autocast` for bf16), all on
the same batch. After warming each up (a compiled model's warm-up is its
compilation; every model's is reported), it times `--rounds` rounds, each
running every model for 3 training steps in turn, so that all four see the
same machine load; the medians over the rounds are reported. Writes
`torch_compile.{json,md}` to `benchmarks/results` (or `--output`).
Needs perceiver-pytorch (`pip install -e .[bench]`); sets `KERAS_BACKEND`
to torch itself.
"""

import argparse
import os
import statistics
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"

from benchmarks import configs, report  # noqa: E402
from benchmarks.torch_profile import (WARMUP_STEPS,  # noqa: E402
                                      keras_perceiver_step, mean_seconds,
                                      perceiver_pytorch_step)
from keras_perceiver.reports import tables  # noqa: E402

STEPS_PER_ROUND = 3
# The kp.Perceiver models, in the table's order.
KERAS_MODELS = ("eager", "compiled", "blocks_compiled")


def training_steps(config, dtype):
    """A no-argument training step per model: the torch backend eager,
    whole step compiled and blocks compiled, and perceiver-pytorch."""
    return {
        "eager": keras_perceiver_step(config, dtype),
        "compiled": keras_perceiver_step(config, dtype, jit_compile=True),
        "blocks_compiled": keras_perceiver_step(config, dtype,
                                                compile_blocks=True),
        "perceiver_pytorch": perceiver_pytorch_step(config, dtype),
    }


def measure(name, dtype, rounds):
    """Each model's warm-up seconds, seconds per step in every round, and
    their median."""
    steps = training_steps(configs.THROUGHPUT[name], dtype)
    warmup_s = {}
    for model, step in steps.items():
        warmup_s[model] = WARMUP_STEPS * mean_seconds(step, WARMUP_STEPS)
        print(f"{name}: {model} warmed up in {warmup_s[model]:.0f} s",
              flush=True)
    per_step = {model: [] for model in steps}
    for _ in range(rounds):
        for model, step in steps.items():
            per_step[model].append(mean_seconds(step, STEPS_PER_ROUND))
    return {"config": name, "dtype": dtype, "warmup_s": warmup_s,
            "per_step_s": per_step,
            "median_s": {model: statistics.median(times)
                         for model, times in per_step.items()}}


def render(results):
    """`results` as Markdown: a table of the four models' steps and
    warm-ups per configuration, then the machine."""
    command = " ".join(["python -m benchmarks.torch_compile",
                        *results["argv"]])
    rows = []
    for m in results["measurements"]:
        median = m["median_s"]
        reference = median["perceiver_pytorch"]
        rows.append([
            m["config"], m["dtype"],
            *(f"{1000 * median[model]:.0f} ms "
              f"({reference / median[model]:.2f}x)"
              for model in KERAS_MODELS),
            f"{1000 * reference:.0f} ms",
            " / ".join(f"{m['warmup_s'][model]:.0f} s"
                       for model in (*KERAS_MODELS, "perceiver_pytorch")),
        ])
    return "\n\n".join([
        "# The torch backend eager and under torch.compile",
        f"Written by `{command}`: training steps, medians of "
        f"{results['rounds']} alternating rounds of {STEPS_PER_ROUND} steps "
        "per model in one process; in brackets, the speed against "
        "perceiver-pytorch's. See the module docstring for the method.",
        tables.markdown_table(
            ["config", "dtype", "kp.Perceiver eager",
             "kp.Perceiver, step compiled (Keras jit_compile=True)",
             "kp.Perceiver, blocks compiled (compile_repeated_blocks)",
             "perceiver-pytorch (eager)",
             "warm-up: eager / step / blocks / perceiver-pytorch"],
            rows,
        ),
        "## Machine",
        report.machine_summary(results),
    ])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["small", "medium"],
                        choices=sorted(configs.THROUGHPUT))
    parser.add_argument("--dtype", default="mixed_bfloat16",
                        choices=configs.DTYPES)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--output", type=Path, default=None,
                        help="results folder; defaults to benchmarks/results")
    args = parser.parse_args()
    report.measure_and_write(
        "torch_compile", {"rounds": args.rounds},
        lambda: [measure(name, args.dtype, args.rounds)
                 for name in args.configs],
        render, args.output)


if __name__ == "__main__":
    main()
