"""Training over millions of inputs: time per step and peak memory against M.

    python -m benchmarks.large_inputs                      # 1k .. 1M, JAX
    python -m benchmarks.large_inputs --inputs 1024 4096   # a quick check
    python -m benchmarks.large_inputs --backends jax tensorflow torch

One training step (`train_on_batch`, Adam, sparse categorical
cross-entropy, float32) of `kp.Perceiver` in the medium configuration
(N = 128, D = 256, B = 4 cross-attends with the paper's weight sharing,
L = 4, one cross-attention head, 8 self-attention heads) on a batch of 4
byte arrays of M x 32 channels, for M from 1,024 to 1,048,576, in these
modes:

- `chunked`: `input_chunk_size=4096` (what the default rule picks above
  M = 32,768): an online softmax over chunks, recomputed in the backward
  pass;
- `whole`: `input_chunk_size=M`, the whole (heads x N x M) logit matrix,
  with the input LayerNorm and key/value projections of cross-attends
  2..B computed once and shared;
- `whole_unshared`: the same without that sharing (every cross-attend
  recomputes them), to show what the sharing saves;
- `perceiver_pytorch`: the PyPI `perceiver-pytorch` `Perceiver` at the
  same configuration on the same byte arrays (no Fourier features, MLPs
  patched to `mult=1` as in `benchmarks/perceiver_pytorch_throughput.py`),
  if it is installed (`pip install -e .[bench]`).

Each point runs in a fresh process, so that its peak memory is its own and
running out of memory ends only that point (reported as OOM): the driver
stops a point whose resident memory passes `--memory-limit-gib` (default:
the memory available at the start less 1 GiB, so that nothing else on the
machine is pushed out), and treats a kill by the kernel or an allocation
error as OOM too. Once a mode runs out of memory or its predicted step time
(a fixed cost plus one in proportion to M, fitted through the last two
points) passes the limit, its larger M are not run. The byte array is
filled in place (float32, 64-byte aligned) and handed to the backend
without a copy, so that the input is counted once.

Peak memory is `getrusage` max RSS of the point's process less its RSS
after imports (the issue's "above the process's baseline"), next to the
byte array's own size. Writes `<output>/large_inputs.json`, `.md` and
`.png`; `<output>` is `benchmarks/results` for the default sweep and
`benchmarks/results_quick` when `--inputs` is given. Time it only on a
quiet machine: the table records the load average. The report also says
whether glibc's `MALLOC_MMAP_THRESHOLD_` was set, which changes the torch
backend's peak memory (benchmarks/README.md, finding 8):

    MALLOC_MMAP_THRESHOLD_=65536 python -m benchmarks.large_inputs \
        --backends torch --modes chunked \
        --inputs 1024 16384 262144 1048576 \
        --output benchmarks/results/large_inputs_torch_mmap_threshold
"""

import argparse
import functools
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import configs, machine, report
from benchmarks.timing import emit, parse_results, peak_rss_bytes, time_steps
from keras_perceiver.reports import tables

ROOT = Path(__file__).resolve().parent.parent
KERAS_MODES = ("chunked", "whole", "whole_unshared")
MODES = KERAS_MODES + ("perceiver_pytorch",)
# glibc's allocator setting that hands freed large buffers back to the
# system at once (it matters on torch; see benchmarks/README.md).
MMAP_THRESHOLD = "MALLOC_MMAP_THRESHOLD_"
OOM_SIGNS = ("RESOURCE_EXHAUSTED", "out of memory", "MemoryError",
             "bad_alloc", "Cannot allocate memory", "OOM")


# The worker: one point in this process.


def byte_array(shape, seed=0):
    """Standard normal float32 values, 64-byte aligned, made in place."""
    import numpy as np

    size = int(np.prod(shape))
    raw = np.empty(size + 16, np.float32)
    offset = (-raw.ctypes.data % 64) // raw.itemsize
    array = raw[offset:offset + size].reshape(shape)
    np.random.default_rng(seed).standard_normal(out=array, dtype=np.float32)
    return array


def backend_tensor(array, backend):
    """`array` as a backend tensor that shares its memory (no copy)."""
    if backend == "torch":
        import torch

        return torch.from_numpy(array)
    if backend == "tensorflow":
        import tensorflow as tf

        # tf.constant would copy it (more than once).
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    import jax

    # jnp.asarray would copy it.
    return jax.device_put(array, may_alias=True)


def build_keras_perceiver(mode, num_inputs, config):
    import keras_perceiver as kp

    model = kp.Perceiver(
        **config["model"],
        input_chunk_size=(
            config["chunk_size"] if mode == "chunked" else num_inputs
        ),
    )
    if mode == "whole_unshared":
        model._share_projected_inputs = False
    return model


def compiled_keras_perceiver(mode, num_inputs, config):
    """The point's model, compiled for training (Adam, cross-entropy; XLA
    on JAX and TensorFlow, eager on torch)."""
    import keras

    model = build_keras_perceiver(mode, num_inputs, config)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=keras.config.backend() != "torch",
    )
    return model


def measure_keras_perceiver(mode, num_inputs, config):
    import keras
    import numpy as np

    baseline = peak_rss_bytes()
    backend = keras.config.backend()
    shape = (config["batch_size"], num_inputs, config["channels"])
    inputs = backend_tensor(byte_array(shape), backend)
    classes = config["model"]["num_classes"]
    labels = np.arange(shape[0], dtype="int32") % classes
    input_ready = peak_rss_bytes()
    keras.utils.set_random_seed(0)
    model = compiled_keras_perceiver(mode, num_inputs, config)
    train = time_steps(lambda: model.train_on_batch(inputs, labels),
                       **config["timing"])
    cross = model.encoder.cross_attend_for_block(0)
    chunk = cross.attention.chunk_size_for(model.encoder.num_latents,
                                           num_inputs)
    return point_result("keras_perceiver", mode, backend, num_inputs, shape,
                        model.count_params(), train, baseline, input_ready,
                        chunk_size=chunk)


def build_perceiver_pytorch(config):
    from perceiver_pytorch import perceiver_pytorch as package

    from benchmarks import perceiver_pytorch_throughput as reference

    ours = config["model"]
    # GEGLU MLPs with mult=1, the closest to our widening factor 1.
    package.FeedForward = functools.partial(
        reference._ORIGINAL_FEED_FORWARD, mult=1
    )
    return package.Perceiver(
        num_freq_bands=1,
        max_freq=1.0,
        fourier_encode_data=False,
        input_channels=config["channels"],
        input_axis=1,
        depth=ours["num_blocks"],
        num_latents=ours["num_latents"],
        latent_dim=ours["latent_dim"],
        cross_heads=ours["num_cross_heads"],
        latent_heads=ours["num_self_heads"],
        cross_dim_head=config["channels"] // ours["num_cross_heads"],
        latent_dim_head=ours["latent_dim"] // ours["num_self_heads"],
        num_classes=ours["num_classes"],
        self_per_cross_attn=ours["num_self_attends_per_block"],
        weight_tie_layers=True,
    )


def measure_perceiver_pytorch(num_inputs, config):
    import torch

    baseline = peak_rss_bytes()
    shape = (config["batch_size"], num_inputs, config["channels"])
    inputs = backend_tensor(byte_array(shape), "torch")
    labels = torch.arange(shape[0]) % config["model"]["num_classes"]
    input_ready = peak_rss_bytes()
    torch.manual_seed(0)
    model = build_perceiver_pytorch(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    train = time_steps(train_step, **config["timing"])
    params = sum(p.numel() for p in model.parameters())
    return point_result("perceiver_pytorch", "perceiver_pytorch", "torch",
                        num_inputs, shape, params, train, baseline,
                        input_ready)


def import_libraries(mode):
    """Imports what the point uses, so that the baseline includes them."""
    if mode == "perceiver_pytorch":
        import perceiver_pytorch  # noqa: F401
        import torch  # noqa: F401

        from benchmarks import perceiver_pytorch_throughput  # noqa: F401
    else:
        import keras

        import keras_perceiver  # noqa: F401

        keras.ops.convert_to_numpy(keras.ops.zeros(()) + 1)  # the runtime


def point_result(model, mode, backend, num_inputs, shape, params, train,
                 baseline, input_ready, **extra):
    peak = peak_rss_bytes()
    input_bytes = 4 * shape[0] * shape[1] * shape[2]
    return {
        "kind": "large_inputs", "model": model, "mode": mode,
        "backend": backend, "num_inputs": num_inputs,
        "batch_size": shape[0], "channels": shape[2],
        "input_bytes": input_bytes, "params": params, "train": train,
        "step_s": train["median_s"], "baseline_rss_bytes": baseline,
        "input_ready_rss_bytes": input_ready, "peak_rss_bytes": peak,
        "peak_above_baseline_bytes": peak - baseline,
        "peak_over_input": (peak - baseline) / input_bytes, **extra,
    }


# The driver: every point in its own process.


def _rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_point(mode, num_inputs, backend, memory_limit, timeout):
    """Runs one point in a fresh process under a memory limit.

    Returns its result, or a record with `"oom"` or `"error"`.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if backend:
        env["KERAS_BACKEND"] = backend
    command = [sys.executable, "-m", "benchmarks.large_inputs", "--point",
               mode, str(num_inputs)]
    print(f"$ KERAS_BACKEND={backend} " + " ".join(command[1:]), flush=True)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    stopped, largest_rss = None, 0
    while True:
        try:
            stdout, stderr = process.communicate(timeout=0.25)
            break
        except subprocess.TimeoutExpired:
            largest_rss = max(largest_rss, _rss_bytes(process.pid))
            if largest_rss > memory_limit:
                stopped = f"over the {memory_limit / 2**30:.1f} GiB limit"
            elif time.perf_counter() - start > timeout:
                stopped = f"timed out after {timeout} s"
            if stopped:
                process.kill()
    elapsed = time.perf_counter() - start
    results = parse_results(stdout)
    record = {"kind": "large_inputs", "mode": mode, "backend": backend,
              "num_inputs": num_inputs, "wall_s": elapsed}
    if results:
        print(f"  {results[0]['step_s']:.2f} s/step, peak "
              f"{results[0]['peak_above_baseline_bytes'] / 2**20:.0f} MiB "
              f"({elapsed:.0f} s)", flush=True)
        return {**results[0], "wall_s": elapsed}
    tail = stderr.strip()[-800:]
    if stopped and stopped.startswith("over"):
        record["oom"] = stopped
    elif process.returncode in (-9, 137) or any(
        sign in stderr for sign in OOM_SIGNS
    ):
        record["oom"] = f"exit {process.returncode}: {tail[-300:]}"
    else:
        record["error"] = stopped or f"exit {process.returncode}: {tail}"
    print("  " + (record.get("oom") or record["error"]), flush=True)
    return record


def sweep(mode, backend, input_sizes, config, memory_limit):
    """One mode over the input sizes; after an OOM or a too slow point,
    the larger sizes are recorded as not run."""
    results, measured, stop = [], [], None
    for num_inputs in input_sizes:
        stop = stop or predicted_limit(measured, num_inputs, config)
        if stop:
            results.append({"kind": "large_inputs", "mode": mode,
                            "backend": backend, "num_inputs": num_inputs,
                            "skipped": stop})
            continue
        result = run_point(mode, num_inputs, backend, memory_limit,
                           config["point_timeout_s"])
        results.append(result)
        if "step_s" in result:
            measured.append(result)
        else:
            stop = ("a smaller M ran out of memory" if "oom" in result
                    else "a smaller M failed")
    return results


def predicted_limit(measured, num_inputs, config):
    """Why the next point would take too long, or None.

    The step time is predicted as `a + b * M` through the last two measured
    points (a fixed cost, which dominates at small M, plus a cost per
    input), or in proportion to M from a single point.
    """
    if not measured:
        return None
    last = measured[-1]
    step_s = last["step_s"] * num_inputs / last["num_inputs"]
    if len(measured) >= 2:
        before = measured[-2]
        per_input = max(0.0, (last["step_s"] - before["step_s"])
                        / (last["num_inputs"] - before["num_inputs"]))
        step_s = last["step_s"] + per_input * (num_inputs - last["num_inputs"])
    if step_s > config["step_time_limit_s"]:
        return (f"predicted step time {step_s:.0f} s > "
                f"{config['step_time_limit_s']:.0f} s")
    return None


# The report.


def _series(results):
    """(backend, mode) pairs in a stable order."""
    order = {mode: i for i, mode in enumerate(MODES)}
    pairs = {(r["backend"], r["mode"]) for r in results}
    return sorted(pairs, key=lambda p: (order[p[1]], p[0]))


def _label(backend, mode):
    if mode == "perceiver_pytorch":
        return "perceiver-pytorch (torch eager)"
    return f"keras-perceiver {backend} {mode}"


def _cell(result):
    if result is None:
        return "–"
    if "oom" in result:
        return "OOM"
    if "skipped" in result:
        return "not run"
    if "error" in result:
        return "error"
    return (f"{result['step_s']:.2f} s, "
            f"{result['peak_above_baseline_bytes'] / 2**30:.2f} GiB "
            f"({result['peak_over_input']:.1f}x)")


def _sharing_lines(points):
    """What sharing the input projections of cross-attends 2..B saves."""
    measured = {(r["backend"], r["mode"], r["num_inputs"]): r
                for r in points if "step_s" in r}
    lines = []
    for (backend, mode, num_inputs), shared in sorted(measured.items()):
        unshared = measured.get((backend, "whole_unshared", num_inputs))
        if mode != "whole" or unshared is None:
            continue
        lines.append(
            f"{backend} M = {num_inputs:,}: "
            f"{shared['step_s'] / unshared['step_s']:.2f}x"
            " the step time, "
            f"{shared['peak_rss_bytes'] / unshared['peak_rss_bytes']:.2f}x "
            "the peak RSS")
    if not lines:
        return []
    return ["- sharing the input LayerNorm and key/value projections of "
            "cross-attends 2..B (whole against whole_unshared): "
            + "; ".join(lines)]


def _allocator_sentence(threshold):
    if threshold is None:
        return f"glibc's allocator at its defaults ({MMAP_THRESHOLD} unset)."
    return f"Run with {MMAP_THRESHOLD}={threshold}."


def _why_not_measured(result):
    if "oom" in result:
        return f"OOM ({result['oom']})"
    return result.get("skipped") or result["error"]


def render(results):
    points = results["points"]
    series = _series(points)
    sizes = sorted({r["num_inputs"] for r in points})
    config = results["config"]
    model = config["model"]
    rows = []
    for num_inputs in sizes:
        input_bytes = 4 * config["batch_size"] * num_inputs * config[
            "channels"]
        row = [f"{num_inputs:,}", f"{input_bytes / 2**20:,.1f} MiB"]
        for backend, mode in series:
            row.append(_cell(next(
                (r for r in points if (r["backend"], r["mode"],
                                       r["num_inputs"]) == (backend, mode,
                                                            num_inputs)),
                None)))
        rows.append(row)
    table = tables.markdown_table(
        ["M", "byte array"] + [_label(*s) for s in series], rows)
    summary = []
    for backend, mode in series:
        ok = [r for r in points if (r["backend"], r["mode"]) == (backend, mode)
              and "step_s" in r]
        if not ok:
            continue
        slope = report.fit_exponent(ok)[0]
        smallest, largest = ok[0], ok[-1]
        # What does not grow with M (compiled program, compiler, weights,
        # optimizer state), as the smallest M shows it.
        fixed = smallest["peak_above_baseline_bytes"]
        growth = (largest["peak_above_baseline_bytes"] - fixed) / largest[
            "input_bytes"]
        summary.append(
            f"- {_label(backend, mode)}: largest M run "
            f"{largest['num_inputs']:,}: {largest['step_s']:.2f} s per step, "
            f"peak {largest['peak_over_input']:.2f}x its byte array; of "
            f"which {fixed / 2**30:.2f} GiB does not grow with M (the peak "
            f"at M = {smallest['num_inputs']:,}), the rest is "
            f"{growth:.2f}x the byte array; time exponent "
            f"{tables.format_number(slope)} over M = {smallest['num_inputs']:,}.."
            f"{largest['num_inputs']:,}")
    summary += _sharing_lines(points)
    failures = [r for r in points if "oom" in r or "error" in r
                or "skipped" in r]
    notes = [f"- {_label(r['backend'], r['mode'])} M = {r['num_inputs']:,}: "
             + _why_not_measured(r)[:300] for r in failures]
    return "\n\n".join([
        "# Large inputs: one training step over M inputs",
        f"Written by `python -m benchmarks.large_inputs "
        f"{' '.join(results['argv'])}`; method in the module docstring "
        "(`benchmarks/large_inputs.py`).",
        f"Medium Perceiver (N = {model['num_latents']}, D = "
        f"{model['latent_dim']}, B = {model['num_blocks']}, L = "
        f"{model['num_self_attends_per_block']}), batch "
        f"{config['batch_size']}, {config['channels']} input channels, "
        f"float32, Adam; chunked = `input_chunk_size="
        f"{config['chunk_size']}`, whole = `input_chunk_size=M`. Each cell: "
        "median step time, peak RSS above the process's baseline after "
        "imports, and that peak as a multiple of the byte array. Memory "
        f"limit per point: {results['memory_limit_bytes'] / 2**30:.1f} GiB. "
        + _allocator_sentence(results.get("malloc_mmap_threshold")),
        table,
        "## Summary",
        "\n".join(summary) or "(no point ran)",
        "## Points not measured",
        "\n".join(notes) or "(none)",
        "## Machine",
        report.machine_summary(results),
    ])


def plot(results, output):
    points = results["points"]
    config = results["config"]
    fig = tables.new_figure(12, 4.8, "The large-input plot")
    time_ax, memory_ax = fig.subplots(1, 2)
    sizes = sorted({r["num_inputs"] for r in points})
    input_gib = [4 * config["batch_size"] * m * config["channels"] / 2**30
                 for m in sizes]
    memory_ax.plot(sizes, input_gib, "k:", label="byte array")
    memory_ax.plot(sizes, [3 * g for g in input_gib], "k--", lw=0.8,
                   label="3x byte array")
    for backend, mode in _series(points):
        rows = [r for r in points if (r["backend"], r["mode"]) == (backend,
                                                                    mode)]
        ok = [r for r in rows if "step_s" in r]
        label = _label(backend, mode)
        if ok:
            m = [r["num_inputs"] for r in ok]
            line, = time_ax.plot(m, [r["step_s"] for r in ok], "o-",
                                 label=label)
            memory_ax.plot(m, [r["peak_above_baseline_bytes"] / 2**30
                               for r in ok], "o-", color=line.get_color(),
                           label=label)
        for r in rows:
            if "oom" in r:
                memory_ax.annotate(
                    "OOM", (r["num_inputs"], 1.0),
                    xycoords=("data", "axes fraction"), ha="center",
                    va="top", fontsize=8)
    for ax, ylabel in ((time_ax, "seconds per training step"),
                       (memory_ax, "peak memory above baseline (GiB)")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("inputs M")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    time_ax.legend(fontsize=7)
    memory_ax.legend(fontsize=7)
    fig.suptitle(
        f"Medium Perceiver, batch {config['batch_size']}, "
        f"{config['channels']} channels: one training step")
    tables.save_figure(fig, output / "large_inputs.png")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--inputs", type=int, nargs="+", default=None,
                        help="the values of M (default: 1024 .. 1048576, "
                        "powers of 4)")
    parser.add_argument("--backends", nargs="+", default=["jax"],
                        choices=configs.KERAS_BACKENDS)
    parser.add_argument("--modes", nargs="+", default=list(MODES),
                        choices=MODES)
    parser.add_argument("--memory-limit-gib", type=float, default=None,
                        help="stop a point above this RSS (default: "
                        "available memory at the start less 1 GiB)")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--point", nargs=2, metavar=("MODE", "M"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    config = configs.LARGE_INPUTS
    if args.point:
        mode, num_inputs = args.point[0], int(args.point[1])
        # Every import before the baseline that the peak is measured from.
        import_libraries(mode)
        if mode == "perceiver_pytorch":
            emit(measure_perceiver_pytorch(num_inputs, config))
        else:
            emit(measure_keras_perceiver(mode, num_inputs, config))
        return

    output = args.output or ROOT / "benchmarks" / (
        "results" if args.inputs is None else "results_quick")
    output.mkdir(parents=True, exist_ok=True)
    input_sizes = sorted(args.inputs or config["input_sizes"])
    memory_limit = (args.memory_limit_gib * 2**30 if args.memory_limit_gib
                    else machine.meminfo_bytes("MemAvailable") - 2**30)
    start = time.perf_counter()
    results = {"argv": sys.argv[1:], "config": config,
               "memory_limit_bytes": memory_limit, "quick": False,
               "machine": machine.describe(),
               "malloc_mmap_threshold": os.environ.get(MMAP_THRESHOLD),
               "load_average_before": machine.load_average(), "stages": []}
    points = []
    for mode in args.modes:
        if mode == "perceiver_pytorch":
            if importlib.util.find_spec("perceiver_pytorch") is None:
                points += [{"kind": "large_inputs", "mode": mode,
                            "backend": "torch", "num_inputs": m,
                            "skipped": "perceiver-pytorch is not installed "
                            "(pip install -e .[bench])"}
                           for m in input_sizes]
                continue
            runs = [(mode, "torch")]
        else:
            runs = [(mode, backend) for backend in args.backends]
        for mode_, backend in runs:
            points += sweep(mode_, backend, input_sizes, config, memory_limit)
            results["stages"].append({
                "stage": f"{backend} {mode_}",
                "elapsed_s": time.perf_counter() - start,
                "load_average": machine.load_average()})
    results["points"] = points
    results["load_average_after"] = machine.load_average()
    results["total_s"] = time.perf_counter() - start
    (output / "large_inputs.json").write_text(json.dumps(results, indent=1))
    (output / "large_inputs.md").write_text(render(results))
    plot(results, output)
    print(f"Done in {results['total_s'] / 60:.1f} min; see "
          f"{output}/large_inputs.md")


if __name__ == "__main__":
    main()
