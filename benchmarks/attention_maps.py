"""Attention maps of large inputs: streamed chunks against the whole matrix.

    python -m benchmarks.attention_maps                 # up to 1000 x 1000
    python -m benchmarks.attention_maps --sides 100 200 # a quick check
    python -m benchmarks.attention_maps --backend jax

What drawing the attention maps of one RGB image of side x side pixels
(M = side**2 inputs, up to 1,000,000) costs in a small `kp.Perceiver`
(N = 128 latents, D = 64, one block of one self-attention, one
cross-attention head, 4 Fourier bands: 21 channels per pixel), in three
modes, each point in a fresh process:

- `streamed`: `model.mean_cross_attention_maps(image, latents)`, the 8
  latents' maps that `plot_attention_maps` draws, filled from chunks of
  4,096 pixels (`cross_attention_map_chunks`);
- `whole`: `model.cross_attention_maps(image)`, the whole
  (heads x N x M) matrix, then the same 8 maps taken from it in NumPy (what
  `plot_attention_maps` did before the chunks);
- `plot`: the whole `plot_attention_maps` PNG (streamed, with
  matplotlib's drawing), at the largest side only.

Peak memory is the largest resident memory sampled every 10 ms during the
call less the resident memory just before it (the model built, the image
made); it is reported beside the size of the whole float32 matrix
(N x M x 4 bytes) and of the byte array (M x 21 x 4 bytes). Time is one
call, first calls included (no warm-up: drawing a map is done once).
`whole` is not run where its matrix alone would take more than
`--max-whole-gib` (default 1 GiB), so that the machine is not pushed into
swap; its computed size is reported instead.

Writes `<output>/attention_maps.json` and `.md` with the machine
description (`lscpu` flags included) and the command; `<output>` is
`benchmarks/results` for the default sides and `benchmarks/results_quick`
otherwise. Time it only on a quiet machine: the table records the load
average before and after.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import machine
from benchmarks.streaming import PeakMemory
from benchmarks.timing import emit, parse_results

ROOT = Path(__file__).resolve().parent.parent
SIDES = (250, 500, 1000)
MODES = ("streamed", "whole")
MODEL = dict(num_classes=10, num_latents=128, latent_dim=64, num_blocks=1,
             num_self_attends_per_block=1, num_self_heads=4, num_bands=4)
CHANNELS = 3 + 2 * (2 * MODEL["num_bands"] + 1)  # pixels + Fourier features
DRAWN_LATENTS = 8


def drawn_latents():
    """The latents `plot_attention_maps` draws (evenly spaced)."""
    total = MODEL["num_latents"]
    return np.linspace(0, total - 1, DRAWN_LATENTS).astype(int).tolist()


def whole_matrix_bytes(side):
    return MODEL["num_latents"] * side * side * 4


def worker(mode, side):
    """One measurement, in this process: emits a result."""
    import keras

    import keras_perceiver as kp
    from keras_perceiver.datasets import Dataset
    from keras_perceiver.reports import plotting

    model = kp.Perceiver(**MODEL)
    model.build((None, side, side, 3))
    image = np.random.default_rng(0).uniform(
        size=(1, side, side, 3)).astype("float32")
    latents = drawn_latents()
    with PeakMemory() as memory, tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        if mode == "streamed":
            maps = model.mean_cross_attention_maps(image, latents)
        elif mode == "whole":
            maps = keras.ops.convert_to_numpy(
                model.cross_attention_maps(image))
            maps = maps[:, :, latents].mean(axis=1)
        else:
            data = Dataset(name="image", x_train=image, y_train=np.zeros(1),
                           x_test=image, y_test=np.zeros(1),
                           class_names=["image"], modality="image")
            plotting.plot_attention_maps(model, data,
                                         Path(folder) / "maps.png")
        seconds = time.perf_counter() - started
    if mode != "plot":
        assert maps.shape == (1, DRAWN_LATENTS, side * side)
    emit({
        "mode": mode, "side": side, "inputs": side * side,
        "backend": keras.config.backend(), "seconds": seconds,
        "peak_above_baseline_bytes": memory.peak - memory.baseline,
        "whole_matrix_bytes": whole_matrix_bytes(side),
        "byte_array_bytes": side * side * CHANNELS * 4,
    })


def run_point(mode, side, backend):
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = [sys.executable, "-m", "benchmarks.attention_maps",
               "--worker", mode, "--sides", str(side)]
    result = subprocess.run(command, capture_output=True, text=True,
                            env=env, cwd=ROOT)
    results = parse_results(result.stdout)
    if result.returncode or not results:
        return {"mode": mode, "side": side, "inputs": side * side,
                "error": result.stderr.strip().splitlines()[-1:]}
    return results[0]


def points(sides, max_whole_bytes):
    """The (mode, side) pairs to run, and those `whole` skips."""
    run, skipped = [], []
    for side in sides:
        for mode in MODES:
            too_big = (mode == "whole"
                       and whole_matrix_bytes(side) > max_whole_bytes)
            (skipped if too_big else run).append((mode, side))
    return run + [("plot", max(sides))], skipped


def markdown(results):
    from benchmarks.report import machine_summary
    from keras_perceiver.reports.tables import markdown_table

    header = ["mode", "image", "inputs M", "time (s)",
              "peak above baseline (MiB)", "whole matrix (MiB)",
              "byte array (MiB)"]
    rows = []
    for row in results["rows"]:
        measured = (["not run (matrix over the limit)", ""]
                    if row.get("skipped") else
                    [f"failed: {row['error']}", ""] if "error" in row else
                    [f"{row['seconds']:.2f}",
                     f"{row['peak_above_baseline_bytes'] / 2**20:,.0f}"])
        side = row["side"]
        rows.append([row["mode"], f"{side} x {side}", f"{side * side:,}",
                     *measured,
                     f"{whole_matrix_bytes(side) / 2**20:,.0f}",
                     f"{side * side * CHANNELS * 4 / 2**20:,.0f}"])
    return "\n".join([
        "# Attention maps of large inputs: streamed against whole",
        "",
        f"Written by `{results['command']}` on the {results['backend']} "
        f"backend: the maps of {DRAWN_LATENTS} latents (averaged over "
        f"heads) of one RGB image in a Perceiver with N = "
        f"{MODEL['num_latents']} latents, streamed in chunks of 4,096 "
        "pixels or from the whole matrix; `plot` is the whole PNG (see the "
        "script's docstring).",
        "",
        markdown_table(header, rows),
        "",
        "## Machine",
        "",
        machine_summary(results),
        "",
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=SIDES)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--max-whole-gib", type=float, default=1.0)
    parser.add_argument("--worker", choices=MODES + ("plot",),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.sides[0])
    output = ROOT / "benchmarks" / (
        "results" if tuple(args.sides) == SIDES else "results_quick")
    run, skipped = points(args.sides, args.max_whole_gib * 2**30)
    started = time.perf_counter()
    results = {
        "command": " ".join(["python -m benchmarks.attention_maps",
                             *(argv if argv is not None else sys.argv[1:])]),
        "backend": args.backend,
        "machine": machine.describe(),
        "lscpu_flags": machine.lscpu_flags(),
        "load_average_before": [round(load, 2)
                                for load in machine.load_average()],
        "rows": [run_point(mode, side, args.backend) for mode, side in run]
        + [{"mode": mode, "side": side, "skipped": True}
           for mode, side in skipped],
    }
    results["load_average_after"] = [round(load, 2)
                                     for load in machine.load_average()]
    results["total_s"] = time.perf_counter() - started
    output.mkdir(parents=True, exist_ok=True)
    (output / "attention_maps.json").write_text(json.dumps(results, indent=1))
    (output / "attention_maps.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
