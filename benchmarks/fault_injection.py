"""Fault injection, the long version: `keras-perceiver train` killed (SIGKILL)
at random moments, again and again, until it finishes.

    python -m benchmarks.fault_injection                      # 20 kills
    python -m benchmarks.fault_injection --kills 2 --epochs 2 # a quick check

First trains once without interruption (the reference). Then, for each of
`--runs` output directories, starts the same command and kills it at a
moment drawn uniformly from the reference's wall time (start-up, training,
evaluation and the writing of the results all included), starts it again in
the same directory and kills it again, until `--kills` kills are spread over
the runs; each run then finishes uninterrupted. Records, per run: the kills
it survived, the epochs begun in all (work lost: those begun beyond
`--epochs`, a killed epoch's part included), whether history.csv holds each epoch once, whether every
restart succeeded, and the test accuracy against the reference's. Writes
`<output>/fault_injection.{json,md}`; `<output>` is `benchmarks/results`
(`benchmarks/results_quick` for fewer than the default kills). The tests
(tests/training/fault_injection_test.py) kill at three chosen moments; this spreads
many kills at random ones.
"""

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import machine, report
from keras_perceiver.reports import tables

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KILLS = 20
TRAIN = ["train", "--dataset", "digits", "--batch-size", "32",
         "--learning-rate", "3e-3", "--seed", "0", "--num-latents", "16",
         "--latent-dim", "32", "--num-blocks", "2",
         "--num-self-attends-per-block", "1", "--num-self-heads", "2",
         "--num-bands", "4"]


def train_command(backend, epochs, output_dir):
    return [sys.executable, "-m", "keras_perceiver.cli", "--backend",
            backend, *TRAIN, "--epochs", str(epochs), "--output-dir",
            str(output_dir)]


def epochs_trained(stdout):
    """How many epochs one process trained (Keras prints "Epoch i/n")."""
    return sum(line.startswith("Epoch ") for line in stdout.splitlines())


def run_once(command, kill_after=None):
    """Runs `command`; kills it after `kill_after` seconds if still running.

    Returns `(killed, exit status, epochs trained)`.
    """
    with tempfile.TemporaryFile("w+") as stdout:
        process = subprocess.Popen(command, cwd=ROOT, stdout=stdout,
                                   stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
        try:
            process.wait(timeout=kill_after)
            killed = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            killed = True
        stdout.seek(0)
        return killed, process.returncode, epochs_trained(stdout.read())


def logged_epochs(output_dir):
    history = output_dir / "history.csv"
    if not history.is_file():
        return []
    with open(history, newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def killed_run(command, output_dir, kills, duration_s, epochs, rng):
    """Kills `command` `kills` times at random moments, then finishes it."""
    record = {"kills": 0, "epochs_trained": 0, "failed_restarts": 0}
    while record["kills"] < kills:
        killed, status, trained = run_once(command,
                                           rng.uniform(0, duration_s))
        record["epochs_trained"] += trained
        record["kills"] += killed
        if not killed:
            record["failed_restarts"] += status != 0
            break  # it finished before the kill
    _, status, trained = run_once(command)
    record["epochs_trained"] += trained
    record["failed_restarts"] += status != 0
    record["epochs_begun_again"] = record["epochs_trained"] - epochs
    record["history_each_epoch_once"] = (logged_epochs(output_dir)
                                         == list(range(epochs)))
    metrics_path = output_dir / "metrics.json"
    record["test_accuracy"] = (json.loads(metrics_path.read_text())
                               ["test_accuracy"]
                               if metrics_path.is_file() else None)
    return record


def render(results):
    reference = results["reference"]
    rows = [[str(index), str(run["kills"]), str(run["epochs_begun_again"]),
             "yes" if run["history_each_epoch_once"] else "**no**",
             str(run["failed_restarts"]),
             tables.format_number(run["test_accuracy"], ".3f")]
            for index, run in enumerate(results["runs"])]
    return "\n\n".join([
        "# Fault injection: kills survived, work lost",
        f"Written by `python -m benchmarks.fault_injection "
        f"{' '.join(results['argv'])}` on {results['backend']}: "
        f"`keras-perceiver {' '.join(TRAIN)} --epochs {results['epochs']}`,"
        " killed with SIGKILL at moments drawn uniformly over the "
        f"uninterrupted run's {reference['wall_s']:.0f} s, restarted in the "
        "same output directory until it finished. Reference test accuracy: "
        f"{tables.format_number(reference['test_accuracy'], '.3f')}.",
        tables.markdown_table(["run", "kills", "epochs begun again",
                       "history: each epoch "
                       "once", "failed restarts", "test accuracy"], rows),
        f"Kills survived: {sum(r['kills'] for r in results['runs'])}; "
        f"epochs begun again (work lost): "
        f"{sum(r['epochs_begun_again'] for r in results['runs'])}.",
        "## Machine",
        report.machine_summary(results),
    ])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--backend", default="torch",
                        choices=("tensorflow", "jax", "torch"))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--kills", type=int, default=DEFAULT_KILLS,
                        help="kills in all, spread over the runs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the kill moments")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    output = args.output or ROOT / "benchmarks" / (
        "results" if args.kills >= DEFAULT_KILLS else "results_quick")
    output.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    results = {"argv": sys.argv[1:], "backend": args.backend,
               "epochs": args.epochs, "machine": machine.describe(),
               "load_average_before": machine.load_average(),
               "quick": args.kills < DEFAULT_KILLS, "runs": [],
               "stages": []}
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        reference_dir = Path(scratch) / "reference"
        start = time.perf_counter()
        run_once(train_command(args.backend, args.epochs, reference_dir))
        results["reference"] = {
            "wall_s": time.perf_counter() - start,
            "test_accuracy": json.loads(
                (reference_dir / "metrics.json").read_text()
            )["test_accuracy"],
        }
        per_run = [args.kills // args.runs + (index < args.kills % args.runs)
                   for index in range(args.runs)]
        for index, kills in enumerate(per_run):
            output_dir = Path(scratch) / f"run-{index}"
            results["runs"].append(killed_run(
                train_command(args.backend, args.epochs, output_dir),
                output_dir, kills, results["reference"]["wall_s"],
                args.epochs, rng,
            ))
            print(json.dumps(results["runs"][-1]), flush=True)
            results["stages"].append({"stage": f"run {index}",
                                      "load_average": machine.load_average()})
    results["load_average_after"] = machine.load_average()
    results["total_s"] = time.perf_counter() - begin
    (output / "fault_injection.json").write_text(
        json.dumps(results, indent=1))
    (output / "fault_injection.md").write_text(render(results))
    print(f"See {output}/fault_injection.md")


if __name__ == "__main__":
    main()
