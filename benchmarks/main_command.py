"""README's main command on each backend: which one to put in README.

    python -m benchmarks.main_command                 # 20 epochs, 3 backends
    python -m benchmarks.main_command --epochs 2      # a quick check

Runs `keras-perceiver --backend B train --dataset digits --epochs E` (the
command README.md starts with) once per backend, and once more with
`--jit-compile` on TensorFlow (XLA, which Keras leaves off on CPU-only
machines), one after the other, each in a fresh output directory, and
records its wall-clock time (start-up, compilation and evaluation
included: what a user waits for), the test accuracy it reports and
whether its step was compiled. Writes `<output>/main_command.{json,md}`;
`<output>` is `benchmarks/results` (`benchmarks/results_quick` with
`--epochs` other than 20). Time it only on a quiet machine: the table
records the load average.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import configs, machine, report
from keras_perceiver.reports import tables

ROOT = Path(__file__).resolve().parent.parent
README_EPOCHS = 20
# Backends where --jit-compile changes the command and compiles in seconds:
# JAX compiles in any case, and torch.compile takes minutes per step
# function and batch shape, longer than this command.
JIT_COMPILE_VARIANTS = ("tensorflow",)


def variants(backends):
    """The (backend, extra options) runs: each backend, and the compiled
    variants of those in `JIT_COMPILE_VARIANTS`."""
    runs = []
    for backend in backends:
        runs.append((backend, []))
        if backend in JIT_COMPILE_VARIANTS:
            runs.append((backend, ["--jit-compile"]))
    return runs


def label(record):
    """A run's backend and extra options, e.g. "tensorflow --jit-compile"."""
    return " ".join([record["backend"], *record["options"]])


def run_command(backend, options, epochs, output_dir, timeout=None):
    """Runs the main command on `backend` with the extra `options`; its
    time and test accuracy, the backend it ran on, and the line `auto`
    printed (with `--backend auto`...). A run past `timeout` seconds is
    stopped and recorded as an error."""
    # The console script installed beside this interpreter.
    command = [str(Path(sys.executable).parent / "keras-perceiver"),
               "--backend", backend, "train", "--dataset", "digits", "--epochs",
               str(epochs), *options, "--output-dir", str(output_dir)]
    print("$ " + " ".join(["keras-perceiver", *command[1:]]), flush=True)
    record = {"backend": backend, "options": options, "epochs": epochs}
    start = time.perf_counter()
    try:
        process = subprocess.run(command, cwd=ROOT, capture_output=True,
                                 text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        record.update(wall_s=time.perf_counter() - start,
                      error=f"stopped after {timeout} s")
        print("  " + record["error"], flush=True)
        return record
    record["wall_s"] = time.perf_counter() - start
    record["auto"] = next((line for line in process.stdout.splitlines()
                           if line.startswith("auto: ")), None)
    if process.returncode != 0:
        record["error"] = (f"exit {process.returncode}: "
                           + process.stderr.strip()[-500:])
        print("  " + record["error"], flush=True)
        return record
    metrics = json.loads((output_dir / "metrics.json").read_text())
    record["test_accuracy"] = metrics["test_accuracy"]
    record["epoch_seconds"] = metrics.get("epoch_seconds_this_run")
    record["jit_compile"] = metrics["jit_compile"]
    record["ran_on"] = metrics["backend"]
    print(f"  {record['wall_s']:.0f} s, test accuracy "
          f"{record['test_accuracy']:.3f}", flush=True)
    return record


def render(results):
    runs = results["runs"]
    rows = [[label(r), f"{r['wall_s']:.0f} s",
             tables.format_number(r.get("test_accuracy"), ".3f")] for r in runs]
    finished = [r for r in runs if "error" not in r]
    fastest = min(finished, key=lambda r: r["wall_s"]) if finished else None
    verdict = (f"Fastest: **{label(fastest)}** "
               f"({fastest['wall_s']:.0f} s)." if fastest
               else "No backend finished.")
    failures = [f"- {label(r)}: {r['error']}" for r in runs
                if "error" in r]
    return "\n\n".join([
        "# README's main command on each backend",
        f"Written by `python -m benchmarks.main_command "
        f"{' '.join(results['argv'])}`: `keras-perceiver --backend B train "
        f"--dataset digits --epochs {results['epochs']}` (with the options "
        "a row names), wall-clock time including start-up, compilation and "
        "evaluation.",
        tables.markdown_table(["backend", "time", "test accuracy"], rows),
        verdict,
        "\n".join(failures) or "",
        "## Machine",
        report.machine_summary(results),
    ])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--epochs", type=int, default=README_EPOCHS)
    parser.add_argument("--backends", nargs="+",
                        default=list(configs.KERAS_BACKENDS),
                        choices=configs.KERAS_BACKENDS)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    output = args.output or ROOT / "benchmarks" / (
        "results" if args.epochs == README_EPOCHS else "results_quick")
    output.mkdir(parents=True, exist_ok=True)
    results = {"argv": sys.argv[1:], "epochs": args.epochs,
               "machine": machine.describe(),
               "load_average_before": machine.load_average(),
               "quick": args.epochs != README_EPOCHS, "runs": [],
               "stages": []}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for index, (backend, options) in enumerate(variants(args.backends)):
            record = run_command(backend, options, args.epochs,
                                 Path(scratch) / f"run-{index}")
            results["runs"].append(record)
            results["stages"].append({"stage": label(record),
                                      "load_average": machine.load_average()})
    results["load_average_after"] = machine.load_average()
    results["total_s"] = time.perf_counter() - start
    (output / "main_command.json").write_text(json.dumps(results, indent=1))
    (output / "main_command.md").write_text(render(results))
    print(f"See {output}/main_command.md")


if __name__ == "__main__":
    main()
