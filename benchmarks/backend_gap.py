"""Why JAX trains slower than TensorFlow: the program or the runtime?

    python -m benchmarks.backend_gap                  # small and medium
    python -m benchmarks.backend_gap --configs small  # one configuration

Both backends compile the training step with XLA, yet on this CPU the JAX
backend trains at about half TensorFlow's speed (benchmarks/README.md,
finding 10). This benchmark separates the two possible causes with one
program run in both places:

1. A TensorFlow process builds the configuration's Perceiver, times its
   `train_on_batch` (TensorFlow's XLA runtime) and saves the HLO of the same
   training step (`model.train_step` under `tf.function(jit_compile=True)`).
2. A JAX process compiles that HLO with jaxlib's XLA and times it,
   alternating step by step with Keras-JAX's own `train_on_batch` on the
   same model and batch, so that both see the same machine load.

`Keras-JAX / TensorFlow's program (JAX runtime)` is then what the program
Keras builds on JAX costs against TensorFlow's program on the same
compiler and runtime (the part in this project's and Keras' hands), and
`TensorFlow's program: JAX runtime / TensorFlow runtime` is what jaxlib's
XLA:CPU costs against TensorFlow's on the same program (two processes one
after the other: compare it only from a quiet run). Writes
`backend_gap.{json,md}` to `benchmarks/results` (or `--output`).

The JAX worker compiles a foreign HLO module through jaxlib's internal
`xla_client` (`hlo_to_stablehlo`, `compile_and_load`): a diagnostic that
may need updating with jaxlib, not something the package uses.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import configs, report
from benchmarks.throughput import model_and_batch
from benchmarks.timing import emit, parse_results
from keras_perceiver.reports import tables

ROOT = Path(__file__).resolve().parent.parent
PARAMETER_PATTERN = re.compile(r"arg\d+\.\d+: (\w+)\[([\d,]*)\]")
NUMPY_DTYPES = {"f32": "float32", "s32": "int32", "s64": "int64",
                "pred": "bool"}


def tensorflow_worker(name, folder, timing):
    """Times TensorFlow's train step and saves its HLO in `folder`."""
    import tensorflow as tf

    from benchmarks.timing import time_steps

    model, images, labels = model_and_batch(configs.THROUGHPUT[name],
                                           jit_compile=True)
    seconds = time_steps(lambda: model.train_on_batch(images, labels),
                         **timing)
    step = tf.function(model.train_step, jit_compile=True)
    compiler_ir = step.experimental_get_compiler_ir((images, labels))
    (folder / "train_step.pb").write_bytes(compiler_ir(stage="hlo_serialized"))
    entry = next(line for line in compiler_ir(stage="hlo").splitlines()
                 if line.startswith("ENTRY"))
    parameters = PARAMETER_PATTERN.findall(entry.split("->")[0])
    (folder / "parameters.json").write_text(json.dumps(parameters))
    emit({"config": name, "tensorflow_native": seconds})


def jax_worker(name, folder, timing):
    """Times TensorFlow's program in JAX's runtime against Keras-JAX's own
    step, alternating."""
    import jax
    import jax.extend
    import numpy as np
    from jax._src.lib import xla_client

    backend = jax.extend.backend.get_backend()
    executable = backend.compile_and_load(
        xla_client._xla.mlir.hlo_to_stablehlo(
            (folder / "train_step.pb").read_bytes()),
        xla_client._xla.DeviceList(tuple(backend.local_devices()[:1])),
        xla_client.CompileOptions(),
    )
    rng = np.random.default_rng(0)
    host_arguments = [
        _random_array(rng, dtype, shape)
        for dtype, shape in json.loads((folder / "parameters.json")
                                       .read_text())
    ]

    def tensorflow_program():
        # The program donates its variables: fresh buffers each call,
        # made before the clock starts.
        with jax.enable_x64():  # keeps the int64 step counter int64
            arguments = [jax.device_put(a) for a in host_arguments]
        jax.block_until_ready(arguments)
        start = time.perf_counter()
        jax.block_until_ready(executable.execute(arguments))
        return time.perf_counter() - start

    model, images, labels = model_and_batch(configs.THROUGHPUT[name],
                                           jit_compile=True)

    def keras_jax():
        start = time.perf_counter()
        jax.block_until_ready(model.train_on_batch(images, labels))
        return time.perf_counter() - start

    steps = {"tensorflow_program_in_jax": tensorflow_program,
             "keras_jax": keras_jax}
    seconds = {key: [] for key in steps}
    for _ in range(timing["warmup"]):
        for step in steps.values():
            step()
    for _ in range(timing["repeats"]):
        for key, step in steps.items():
            seconds[key].append(step())
    emit({"config": name, **{
        key: {"median_s": statistics.median(values), "min_s": min(values),
              "max_s": max(values)}
        for key, values in seconds.items()
    }})


def _random_array(rng, dtype, shape):
    import numpy as np

    shape = tuple(int(size) for size in shape.split(",")) if shape else ()
    if dtype not in NUMPY_DTYPES:
        raise ValueError(f"The HLO has a parameter of type {dtype}, which "
                         f"this benchmark does not make. Received: {dtype}")
    if dtype == "f32":
        return (rng.standard_normal(shape) * 0.02).astype("float32")
    return np.ones(shape, NUMPY_DTYPES[dtype])  # labels, step counters


def run_worker(backend, name, folder, repeats):
    environment = dict(os.environ, KERAS_BACKEND=backend)
    process = subprocess.run(
        [sys.executable, "-m", "benchmarks.backend_gap", "--worker", backend,
         "--configs", name, "--folder", str(folder), "--repeats",
         str(repeats)],
        cwd=ROOT, env=environment, capture_output=True, text=True,
    )
    results = parse_results(process.stdout)
    if process.returncode != 0 or not results:
        raise RuntimeError(f"The {backend} worker failed on {name}:\n"
                           + process.stderr[-3000:])
    return results[-1]


def measure(name, repeats):
    print(f"{name}: TensorFlow ...", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        tensorflow = run_worker("tensorflow", name, Path(folder), repeats)
        print(f"{name}: JAX ...", flush=True)
        jax = run_worker("jax", name, Path(folder), repeats)
    native = tensorflow["tensorflow_native"]["median_s"]
    in_jax = jax["tensorflow_program_in_jax"]["median_s"]
    keras_jax = jax["keras_jax"]["median_s"]
    return {**tensorflow, **jax,
            "program_ratio": keras_jax / in_jax,
            "runtime_ratio": in_jax / native,
            "jax_against_tensorflow": native / keras_jax}


def render(results):
    rows = [[
        r["config"],
        f"{1000 * r['tensorflow_native']['median_s']:.0f} ms",
        f"{1000 * r['tensorflow_program_in_jax']['median_s']:.0f} ms",
        f"{1000 * r['keras_jax']['median_s']:.0f} ms",
        f"{r['program_ratio']:.2f}",
        f"{r['runtime_ratio']:.2f}",
        f"{r['jax_against_tensorflow']:.2f}x",
    ] for r in results["measurements"]]
    return "\n\n".join([
        "# JAX against TensorFlow: the program or the runtime",
        f"Written by `python -m benchmarks.backend_gap "
        f"{' '.join(results['argv'])}`, float32 training steps (median of "
        f"{results['repeats']}); see the module docstring for the method.",
        tables.markdown_table(
            ["config", "TensorFlow", "TensorFlow's program, JAX runtime",
             "Keras-JAX", "Keras-JAX / TF program (same runtime)",
             "TF program: JAX runtime / TF runtime", "JAX speed vs TF"],
            rows,
        ),
        "## Machine",
        report.machine_summary(results),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["small", "medium"],
                        choices=sorted(configs.THROUGHPUT))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--worker", choices=["tensorflow", "jax"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=None,
                        help="results folder; defaults to benchmarks/results")
    args = parser.parse_args()
    timing = dict(warmup=2, repeats=args.repeats, steps=1)
    if args.worker == "tensorflow":
        return tensorflow_worker(args.configs[0], args.folder, timing)
    if args.worker == "jax":
        return jax_worker(args.configs[0], args.folder, timing)
    report.measure_and_write(
        "backend_gap", {"repeats": args.repeats},
        lambda: [measure(name, args.repeats) for name in args.configs],
        render, args.output)


if __name__ == "__main__":
    main()
