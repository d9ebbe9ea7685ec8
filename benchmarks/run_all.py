"""Runs every benchmark and writes the results: one command.

    python -m benchmarks.run_all            # full run, ~20 min on 2 cores
    python -m benchmarks.run_all --quick    # tiny sizes, for development

Each measurement runs in its own process (the Keras backend is fixed when
keras is imported, and peak memory must belong to one measurement): the
workers print JSON lines, this driver collects them into
`<output>/results.json` and `benchmarks.report` turns that into
`<output>/results.md` and PNG plots. Needs the `bench` extra
(`pip install -e .[bench]`); perceiver-pytorch is installed (without
touching torch) if it is missing.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import configs, machine, report
from benchmarks.timing import parse_results

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT_S = 600


def run_worker(module, args=(), backend=None, timeout=WORKER_TIMEOUT_S):
    """Runs `python -m module args`; returns its results and any failure."""
    env = dict(os.environ)
    if backend:
        env["KERAS_BACKEND"] = backend
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, "-m", module, *args]
    print("$", ("KERAS_BACKEND=%s " % backend if backend else "")
          + " ".join(command[1:]), flush=True)
    start = time.perf_counter()
    try:
        process = subprocess.run(command, cwd=ROOT, env=env, timeout=timeout,
                                 capture_output=True, text=True)
    except subprocess.TimeoutExpired as expired:
        stdout = expired.stdout or ""
        if isinstance(stdout, bytes):
            stdout = stdout.decode(errors="replace")
        return parse_results(stdout), f"timed out after {timeout} s"
    results = parse_results(process.stdout)
    print(f"  {len(results)} result(s) in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    failure = None
    if process.returncode != 0:
        failure = (f"exit {process.returncode}: "
                   + process.stderr.strip()[-800:])
        print("  " + failure, flush=True)
    return results, failure


def ensure_perceiver_pytorch():
    try:
        import einops  # noqa: F401
        import perceiver_pytorch  # noqa: F401
    except ImportError:
        # --no-deps: its dependency `torch` must stay the CPU build installed.
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps",
                        "perceiver-pytorch", "einops"], check=True)


def throughput(quick, torch_compile, log):
    results = []
    runs = [(backend, []) for backend in configs.KERAS_BACKENDS]
    if torch_compile:
        # Compiling takes minutes; it pays in mixed bfloat16
        # (benchmarks/README.md, finding 5, and benchmarks/torch_compile.py):
        # opt-in only.
        runs.append(("torch", ["--torch-compile", "--configs", "medium",
                               "--dtypes", "float32"]))
    for backend, extra in runs:
        args = (["--quick"] if quick else []) + extra
        found, failure = run_worker("benchmarks.throughput", args, backend)
        results += found
        log(f"throughput {backend} {' '.join(extra)}", failure)
    found, failure = run_worker("benchmarks.perceiver_pytorch_throughput",
                                ["--quick"] if quick else [])
    log("perceiver-pytorch", failure)
    return results + found


def predicted_limits(previous, num_inputs, exponent, config):
    """Why the next point would be too slow or too big, or None."""
    if previous is None:
        return None
    ratio = num_inputs / previous["num_inputs"]
    step_s = previous["step_s"] * ratio**exponent
    if step_s > config["step_time_limit_s"]:
        return (f"predicted step time {step_s:.1f} s > limit "
                f"{config['step_time_limit_s']} s")
    return None


def attention_bytes(model, num_inputs, config):
    """The attention matrices a training step keeps for the backward pass."""
    if model != "transformer":
        return 0
    return (4 * config["batch_size"] * config["num_heads"]
            * num_inputs**2 * config["num_layers"])


def scaling(quick, log):
    config = configs.scaling_config(quick)
    results = []
    for model, exponent in (("perceiver", 1), ("transformer", 2)):
        previous = None
        for num_inputs in config["input_sizes"]:
            reason = predicted_limits(previous, num_inputs, exponent, config)
            if reason is None and attention_bytes(
                model, num_inputs, config
            ) > config["memory_limit_bytes"]:
                reason = "predicted attention matrices exceed the memory limit"
            if reason:
                results.append({"kind": "scaling", "model": model,
                                "num_inputs": num_inputs, "skipped": reason})
                break
            args = ["--model", model, "--inputs", str(num_inputs)]
            found, failure = run_worker(
                "benchmarks.scaling", args + (["--quick"] if quick else []),
                "jax", timeout=240,
            )
            log(f"scaling {model} M={num_inputs}", failure)
            if not found:
                results.append({"kind": "scaling", "model": model,
                                "num_inputs": num_inputs,
                                "skipped": failure or "no result"})
                break
            previous = found[0]
            results.append(previous)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, about a minute per stage")
    parser.add_argument("--output", type=Path, default=None,
                        help="results folder; defaults to benchmarks/results "
                        "(benchmarks/results_quick with --quick)")
    parser.add_argument("--torch-compile", action="store_true",
                        help="also time the torch backend with "
                        "jit_compile=True (medium, float32; slow to compile)")
    args = parser.parse_args()
    output = args.output or ROOT / "benchmarks" / (
        "results_quick" if args.quick else "results")
    output.mkdir(parents=True, exist_ok=True)
    ensure_perceiver_pytorch()

    start = time.perf_counter()
    stages = []

    def log(name, failure=None):
        stages.append({"stage": name,
                       "elapsed_s": time.perf_counter() - start,
                       "load_average": machine.load_average(),
                       "failure": failure})

    log("start")
    results = {"quick": args.quick, "machine": machine.describe(),
               "lscpu_flags": machine.lscpu_flags(),
               "load_average_before": machine.load_average()}
    peak, failure = run_worker("benchmarks.matmul_peak",
                               ["--quick"] if args.quick else [])
    log("matmul peak", failure)
    results["matmul_peak"] = peak[0] if peak else None
    results["throughput"] = throughput(args.quick, args.torch_compile, log)
    results["scaling"] = scaling(args.quick, log)
    results["load_average_after"] = machine.load_average()
    results["stages"] = stages
    results["total_s"] = time.perf_counter() - start
    (output / "results.json").write_text(json.dumps(results, indent=1))
    report.write(results, output)
    print(f"Done in {results['total_s'] / 60:.1f} min; "
          f"see {output}/results.md")


if __name__ == "__main__":
    main()
