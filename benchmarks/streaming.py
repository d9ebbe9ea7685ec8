"""Streaming a folder of image files: peak memory and steps per second.

    python -m benchmarks.streaming                   # 50,000 files, JAX
    python -m benchmarks.streaming --files 500       # a quick check
    python -m benchmarks.streaming --backend torch

Generates `--files` random 32x32 RGB PNG files in 10 class folders (in a
temporary folder, removed afterwards), reads them with
`keras_perceiver.datasets.load_source` (a `tf.data` stream: parallel
decoding, batching, prefetch) and trains a small Perceiver (N = 32,
D = 64, B = 1, L = 2, 8 Fourier bands, batch 64) for one epoch over the
training split (80 % of the files), in two modes, each in a fresh process:

- `stream`: every step reads and decodes its files;
- `cached`: the same stream with `.cache()` filled by one pass beforehand,
  so the epoch runs on decoded tensors in memory.

Both warm up on 5 steps (compilation) before the timed epoch. Peak memory
is the largest resident memory sampled every 10 ms during the epoch less
the resident memory just before it; it is reported with the size of the
decoded data set (float32), which the `cached` mode holds and the `stream`
mode should not. `stream` runs at a tenth of the files too, to show that
its memory does not grow with the data set. Steps per second of `stream`
within 10 % of `cached` means the input pipeline is not the bottleneck.

Writes `<output>/streaming.json` and `.md` with the machine description;
`<output>` is `benchmarks/results` for the default 50,000 files and
`benchmarks/results_quick` otherwise. Time it only on a quiet machine.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks import machine
from benchmarks.timing import emit, parse_results

ROOT = Path(__file__).resolve().parent.parent
IMAGE_SIZE = 32
NUM_CLASSES = 10
BATCH_SIZE = 64
MODEL = dict(num_latents=32, latent_dim=64, num_blocks=1,
             num_self_attends_per_block=2, num_self_heads=4, num_bands=8)


def write_images(folder, count, seed=0):
    """`count` random PNG files in `NUM_CLASSES` class folders."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for index in range(count):
        class_folder = folder / f"class_{index % NUM_CLASSES}"
        class_folder.mkdir(exist_ok=True)
        pixels = rng.integers(0, 256, (IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
        Image.fromarray(pixels).save(class_folder / f"{index}.png")


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """The largest resident memory seen while the `with` block runs."""

    def __enter__(self):
        self.baseline = self.peak = resident_bytes()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.01):
            self.peak = max(self.peak, resident_bytes())

    def __exit__(self, *exc_info):
        self._done.set()
        self._thread.join()


def worker(mode, folder, count):
    """One measurement, in this process: emits a result."""
    import keras

    from keras_perceiver import datasets
    from keras_perceiver.models import perceiver_for_dataset

    data = datasets.load_source(folder)  # trains on 80 % of the files
    model = perceiver_for_dataset(data, **MODEL)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    train = data.fit_data(BATCH_SIZE)["x"]
    if mode == "cached":
        train = train.unbatch().cache().batch(BATCH_SIZE).prefetch(2)
        for _ in train:  # fill the cache
            pass
    model.fit(train.take(5), epochs=1, verbose=0)  # compile
    steps = -(-data.num_train_examples // BATCH_SIZE)
    with PeakMemory() as memory:
        started = time.perf_counter()
        model.fit(train, epochs=1, verbose=0)
        seconds = time.perf_counter() - started
    emit({
        "mode": mode, "files": count, "backend": keras.config.backend(),
        "steps": steps, "steps_per_s": steps / seconds,
        "epoch_s": seconds,
        "peak_above_baseline_bytes": memory.peak - memory.baseline,
        "decoded_bytes": data.num_train_examples * IMAGE_SIZE ** 2 * 3 * 4,
    })


def run_point(mode, folder, count, backend):
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = [sys.executable, "-m", "benchmarks.streaming", "--worker",
               mode, "--folder", str(folder), "--files", str(count)]
    result = subprocess.run(command, capture_output=True, text=True,
                            env=env, cwd=ROOT)
    results = parse_results(result.stdout)
    if result.returncode or not results:
        return {"mode": mode, "files": count, "backend": backend,
                "error": result.stderr.strip().splitlines()[-1:]}
    return results[0]


def render(results, description):
    rows = ["| mode | files | steps/s | epoch (s) | peak above baseline "
            "(MiB) | decoded data (MiB) |", "|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['mode']} | {r['files']:,} | failed: "
                        f"{r['error']} | | | |")
            continue
        rows.append(
            f"| {r['mode']} | {r['files']:,} | {r['steps_per_s']:.2f} | "
            f"{r['epoch_s']:.1f} | "
            f"{r['peak_above_baseline_bytes'] / 2**20:.0f} | "
            f"{r['decoded_bytes'] / 2**20:.0f} |"
        )
    return "\n".join([
        "# Streaming a folder of image files", "",
        f"{description['cpu_model']}, {description['cpus']} CPUs, load "
        f"average {description['load_average']} at the start; backend "
        f"{results[0]['backend']}; batch {BATCH_SIZE}, "
        f"{IMAGE_SIZE}x{IMAGE_SIZE} PNG files.", "", *rows, "",
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--backend", default="jax")
    parser.add_argument("--output", default=None)
    parser.add_argument("--worker", choices=("stream", "cached"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.folder, args.files)
    output = Path(args.output or ROOT / "benchmarks" / (
        "results" if args.files == 50_000 else "results_quick"))
    description = dict(machine.describe(), load_average=[
        round(load, 2) for load in machine.load_average()])
    results = []
    with tempfile.TemporaryDirectory() as temporary:
        for count in (args.files // 10, args.files):
            folder = Path(temporary) / str(count)
            folder.mkdir()
            write_images(folder, count)
            modes = ("stream", "cached") if count == args.files else (
                "stream",)
            results += [run_point(mode, folder, count, args.backend)
                        for mode in modes]
    output.mkdir(parents=True, exist_ok=True)
    (output / "streaming.json").write_text(json.dumps(
        {"machine": description, "results": results}, indent=2))
    (output / "streaming.md").write_text(render(results, description))
    print(render(results, description))


if __name__ == "__main__":
    main()
