"""CPU time to compile a Perceiver's repeated blocks on torch, and to train.

    /usr/bin/time -f "%U user %S sys" python -m benchmarks.compile_time medium

Builds a `configs.THROUGHPUT` model on the Keras torch backend, compiles
its repeated blocks (`training.compile_repeated_blocks`), trains 3 steps
on the configuration's batch and then one batch of 3 examples (an epoch's
shorter last batch), and prints each step's CPU seconds and the graphs
dynamo compiled so far: the first step's count is the distinct blocks, and
the short batch must add none. With `--eager-rounds N` it then builds the
model again, eager, and times N rounds of one step of each in turn,
printing the median CPU seconds per step of both (`--threads 1` makes CPU
time a step's cost). CPU time, not wall time, so that a shared machine
still gives a fair number. Sets `KERAS_BACKEND` to torch itself.

    python -m benchmarks.compile_time medium --threads 1 --eager-rounds 5
"""

import argparse
import os
import statistics
import time

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402

from benchmarks import configs  # noqa: E402
from benchmarks.throughput import model_and_batch  # noqa: E402
from benchmarks.torch_profile import keras_perceiver_step  # noqa: E402
from keras_perceiver.training import compile_repeated_blocks  # noqa: E402

SHORT_BATCH = 3


def timed_step(label, model, images, labels):
    from torch._dynamo.utils import counters

    start = time.process_time()
    model.train_on_batch(images, labels)
    print(f"{label}: {time.process_time() - start:.1f} CPU-s, "
          f"{counters['stats']['unique_graphs']} graphs compiled", flush=True)


def compare_with_eager(config, dtype, rounds, compiled_step):
    """Median CPU seconds per step, eager and blocks compiled, over
    `rounds` alternating rounds."""
    steps = {"eager": keras_perceiver_step(config, dtype),
             "blocks compiled": compiled_step}
    steps["eager"]()  # its warm-up
    seconds = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.process_time()
            step()
            seconds[name].append(time.process_time() - start)
    for name, times in seconds.items():
        print(f"{name}: {statistics.median(times):.3f} CPU-s per step",
              flush=True)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("config", choices=sorted(configs.THROUGHPUT))
    parser.add_argument("--dtype", default="mixed_bfloat16",
                        choices=configs.DTYPES)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch's threads (default: torch's choice)")
    parser.add_argument("--eager-rounds", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    config = configs.THROUGHPUT[args.config]
    keras.config.set_dtype_policy(args.dtype)
    model, images, labels = model_and_batch(config, jit_compile=False)
    print(f"{compile_repeated_blocks(model)} layers compiled", flush=True)
    for step in range(3):
        timed_step(f"step {step}", model, images, labels)
    timed_step(f"batch of {SHORT_BATCH}", model, images[:SHORT_BATCH],
               labels[:SHORT_BATCH])
    if args.eager_rounds:
        compare_with_eager(config, args.dtype, args.eager_rounds,
                           lambda: model.train_on_batch(images, labels))


if __name__ == "__main__":
    main()
