"""Runs the paper experiments: all of them, or some by name.

    python -m benchmarks.paper                      # every experiment
    python -m benchmarks.paper permutation placement
    python -m benchmarks.paper --quick permutation  # tiny sizes, a check
    python -m benchmarks.paper --list

Each experiment runs in its own process with `KERAS_BACKEND` set to
`--backend` and writes, in `--output` (`benchmarks/paper/results`, or
`benchmarks/paper/results_quick` with `--quick`):
- `<name>.md`: the table(s), the command, the machine and the time taken;
- `<name>.png`: the plot;
- `<name>.json`: every number, the settings, the command, the machine and
  the load average at the start and the end;
- `runs.jsonl` (one for all experiments): each finished training run, as
  it finishes. An experiment started again skips the runs found there (so
  a stopped job resumes, and a run two experiments share is trained once);
  `--fresh` deletes the file first.
"""

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import machine

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ("permutation", "placement", "weight_sharing", "point_clouds",
               "raw_audio", "hyperparameter_search")
BACKENDS = ("tensorflow", "jax", "torch")
RUNS_FILE = "runs.jsonl"


def experiment_module(name):
    return importlib.import_module(f"benchmarks.paper.{name}")


def run_experiment(name, quick, output):
    """Runs experiment `name` in this process and writes its files."""
    import keras

    from benchmarks.paper.experiment import FinishedRuns
    from keras_perceiver.reports import tables

    module = experiment_module(name)
    settings = module.SETTINGS["quick" if quick else "full"]
    output.mkdir(parents=True, exist_ok=True)
    load_at_start = machine.load_average()
    started = time.perf_counter()
    results = module.run(settings, FinishedRuns(output / RUNS_FILE))
    seconds = time.perf_counter() - started
    command = "python -m benchmarks.paper " + " ".join(
        (["--quick"] if quick else []) + [
            f"--backend {keras.config.backend()}", name])
    description = dict(machine.describe(), load_average_start=[
        round(load, 2) for load in load_at_start], load_average_end=[
        round(load, 2) for load in machine.load_average()])
    payload = {"experiment": name, "description": module.DESCRIPTION,
               "command": command, "backend": keras.config.backend(),
               "settings": settings, "seconds": seconds,
               "machine": description, "results": results}
    (output / f"{name}.json").write_text(
        json.dumps(payload, indent=2, default=str) + "\n")
    figure = tables.new_figure(9, 4, "The paper experiments' plots")
    module.plot(results, figure)
    tables.save_figure(figure, output / f"{name}.png")
    (output / f"{name}.md").write_text(render_report(payload, module))
    print(render_report(payload, module))


def training_seconds(results):
    """The `fit` seconds of every training run in `results` (the runs'
    dicts carry `train_seconds`, wherever they sit in it)."""
    if isinstance(results, dict):
        if "train_seconds" in results:
            return results["train_seconds"]
        return sum(training_seconds(value) for value in results.values())
    if isinstance(results, list):
        return sum(training_seconds(value) for value in results)
    return 0.0


def render_report(payload, module):
    """The Markdown file of one experiment's results."""
    description = payload["machine"]
    trained = training_seconds(payload["results"])
    training = (f"{trained / 60:.0f} min of training in its runs, " if trained
                else "")
    return "\n".join([
        f"# {payload['description']}", "",
        f"`{payload['command']}` ({training}{payload['seconds'] / 60:.0f} "
        f"min for this start, which reuses the runs finished by earlier "
        f"ones); {description['cpu_model']}, "
        f"{description['cpus']} CPUs; load average "
        f"{description['load_average_start']} at the start, "
        f"{description['load_average_end']} at the end.", "",
        module.render(payload["results"]), "",
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"experiments to run (default: all of "
                             f"{', '.join(EXPERIMENTS)})")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, for tests and development")
    parser.add_argument("--backend", choices=BACKENDS, default="torch")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--fresh", action="store_true",
                        help="forget the finished runs of earlier starts "
                             "(of every experiment)")
    parser.add_argument("--list", action="store_true",
                        help="list the experiments and exit")
    parser.add_argument("--worker", action="store_true",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(EXPERIMENTS))
    if unknown:
        parser.error(f"unknown experiment {', '.join(unknown)}: expected "
                     f"some of {', '.join(EXPERIMENTS)}")
    if args.list:
        for name in EXPERIMENTS:
            print(f"{name}: {experiment_module(name).DESCRIPTION}")
        return 0
    output = args.output or ROOT / "benchmarks" / "paper" / (
        "results_quick" if args.quick else "results")
    if args.worker:
        return run_experiment(args.names[0], args.quick, output)
    if args.fresh:
        (output / RUNS_FILE).unlink(missing_ok=True)
    failed = []
    for name in args.names or EXPERIMENTS:
        command = [sys.executable, "-m", "benchmarks.paper", "--worker",
                   "--output", str(output), name] + (
            ["--quick"] if args.quick else [])
        print(f"=== {name} ({args.backend})", flush=True)
        result = subprocess.run(command, cwd=ROOT, env=dict(
            os.environ, KERAS_BACKEND=args.backend))
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
