"""`--backend auto --precision auto --compile auto` on README's main command,
against every fixed choice, each timed end to end.

    python -m benchmarks.auto_choice          # the real run (alone on the machine)
    python -m benchmarks.auto_choice --tiny   # a tiny model, 1 epoch: does it run

Runs `keras-perceiver --backend B train --dataset digits --epochs E` (the
command README.md starts with) one after the other: with `auto` for all
three from an empty measurement cache (the measurement included in its
time), again from the warm cache, and with each fixed choice `auto`
chooses from (every installed backend, float32 and mixed_bfloat16,
eager and compiled). Each time is wall-clock, start-up, compilation and
evaluation included. Writes `<output>/auto_choice.{json,md}` with the
machine and its `lscpu` flags; `<output>` is `benchmarks/results`
(`benchmarks/results_quick` with `--tiny` or `--epochs` other than 20).

With `--long-epochs N`, it then runs `auto` once more on N epochs (a
long run: 700 takes about 30 minutes on a 2-core CPU), from an empty
cache of its own, and sets its measured time against each fixed choice's
time projected to N epochs from its run above: that run's wall-clock
time plus, for each further epoch, its steady epoch (the median of its
epochs after the first, which compiles; each run's `metrics.json` times
its epochs). Running every fixed choice for 30 minutes would take six
hours.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import machine, report
from benchmarks.main_command import README_EPOCHS, ROOT, run_command
from keras_perceiver.performance.candidate import CANDIDATES
from keras_perceiver.performance.machine import installed_backends
from keras_perceiver.reports import tables

AUTO = ["--precision", "auto", "--compile", "auto"]
# The tests' tiny Perceiver (tests/command_line.py's TINY_MODEL).
TINY_MODEL = ["--num-latents", "8", "--latent-dim", "16", "--num-blocks",
              "1", "--num-self-attends-per-block", "1", "--num-self-heads",
              "2", "--num-bands", "4"]
# A fixed choice slower than this is stopped (torch's emulated bfloat16,
# torch.compile recompiling for the last short batch).
RUN_TIMEOUT_S = 1800


def variants():
    """(name, backend, options) of each run: auto from an empty cache,
    auto again, then every fixed choice."""
    runs = [("auto, empty cache", "auto", AUTO),
            ("auto, warm cache", "auto", AUTO)]
    for candidate in CANDIDATES:
        if candidate.backend in installed_backends():
            runs.append((candidate.label, candidate.backend, [
                "--precision", candidate.precision,
                "--compile", "on" if candidate.compiled else "off"]))
    return runs


def render(results):
    runs = results["runs"]
    rows = [[r["name"], tables.format_number(r.get("wall_s"), ".0f"),
             tables.format_number(r.get("test_accuracy"), ".3f"),
             r.get("error", "")] for r in runs]
    fixed = [r for r in runs[2:] if "error" not in r]
    fastest = min(fixed, key=lambda r: r["wall_s"]) if fixed else None
    lines = [f"- {r['name']}: {r['auto']}" for r in runs[:2] if r.get("auto")]
    if fastest:
        lines.append(f"- fastest fixed choice: **{fastest['name']}** "
                     f"({fastest['wall_s']:.0f} s)")
    return "\n\n".join([
        "# `auto` against every fixed choice on README's main command",
        f"Written by `python -m benchmarks.auto_choice "
        f"{' '.join(results['argv'])}`: `keras-perceiver --backend B train "
        f"--dataset digits --epochs {results['epochs']}"
        f"{' ' + ' '.join(results['model']) if results['model'] else ''}` "
        "with the choice each row names; wall-clock time including "
        "start-up, measuring (auto from an empty cache), compilation and "
        "evaluation.",
        tables.markdown_table(["run", "time s", "test accuracy", "error"],
                              rows),
        "\n".join(lines),
        *([render_long_run(results)] if "long_run" in results else []),
        "## Machine",
        report.machine_summary(results),
    ])


def projected_seconds(record, epochs):
    """A run's wall-clock time projected to `epochs`: its own, plus its
    steady epoch (the median after the first, or the first alone) for
    each further epoch."""
    epochs_after_the_first = record["epoch_seconds"][1:]
    steady = statistics.median(epochs_after_the_first
                               or record["epoch_seconds"])
    return record["wall_s"] + (epochs - record["epochs"]) * steady


def render_long_run(results):
    """The long run's section: auto measured, every fixed choice
    projected."""
    long_run, epochs = results["long_run"], results["long_run"]["epochs"]
    fixed = [r for r in results["runs"][2:]
             if "error" not in r and r.get("epoch_seconds")]
    rows = [["auto, empty cache (measured)",
             tables.format_number(long_run.get("wall_s"), ".0f"),
             tables.format_number(long_run.get("test_accuracy"), ".3f")]]
    rows += [[f"{r['name']} (projected)",
              f"{projected_seconds(r, epochs):.0f}", ""]
             for r in sorted(fixed, key=lambda r: projected_seconds(r, epochs))]
    return "\n\n".join([
        f"## A long run: `--epochs {epochs}`",
        f"`auto` from an empty cache of its own, measured (its measurement "
        f"included), against each fixed choice projected from its "
        f"{results['epochs']}-epoch run above (its time plus its median "
        "epoch after the first for each further epoch).",
        tables.markdown_table(["run", "time s", "test accuracy"], rows),
        "\n".join(long_run_verdict(long_run, fixed)),
    ])


def long_run_verdict(long_run, fixed):
    """What auto chose on the long run, the fastest fixed choice
    projected, and auto's choice projected."""
    lines = [f"- {long_run.get('auto') or long_run.get('error')}"]
    epochs = long_run["epochs"]
    if fixed:
        fastest = min(fixed, key=lambda r: projected_seconds(r, epochs))
        lines.append(f"- fastest fixed choice, projected: **{fastest['name']}**"
                     f" ({projected_seconds(fastest, epochs):.0f} s)")
    chosen = [r for r in fixed if long_run.get("auto") and
              long_run["auto"].startswith(f"auto: {r['name']} (")]
    if chosen:
        lines.append(f"- auto's choice, projected: "
                     f"{projected_seconds(chosen[0], epochs):.0f} s "
                     "(its measured time above adds its measurement)")
    return lines


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"default: {README_EPOCHS}, 1 with --tiny")
    parser.add_argument("--tiny", action="store_true",
                        help="the tests' tiny model, 1 epoch")
    parser.add_argument("--auto-budget", default="60")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT_S)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--long-epochs", type=int, default=None,
                        help="also run auto on this many epochs (700: "
                        "about 30 minutes)")
    parser.add_argument("--long-timeout", type=float, default=3600)
    args = parser.parse_args()
    epochs = args.epochs or (1 if args.tiny else README_EPOCHS)
    model = TINY_MODEL if args.tiny else []
    quick = args.tiny or epochs != README_EPOCHS
    output = args.output or ROOT / "benchmarks" / (
        "results_quick" if quick else "results")
    output.mkdir(parents=True, exist_ok=True)
    results = {"argv": sys.argv[1:], "epochs": epochs, "model": model,
               "machine": machine.describe(),
               "lscpu_flags": machine.lscpu_flags(),
               "load_average_before": machine.load_average(),
               "quick": quick, "runs": [], "stages": []}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        # An empty cache of its own: the first auto run measures.
        os.environ["KERAS_PERCEIVER_CACHE"] = str(Path(scratch) / "cache")
        for index, (name, backend, options) in enumerate(variants()):
            if backend == "auto":
                options = [*options, "--auto-budget", args.auto_budget]
            record = run_command(backend, [*model, *options], epochs,
                                 Path(scratch) / f"run-{index}",
                                 timeout=args.timeout)
            record["name"] = name
            results["runs"].append(record)
            results["stages"].append({"stage": name,
                                      "load_average": machine.load_average()})
        if args.long_epochs:
            # An empty cache again: the long run pays its measurement.
            os.environ["KERAS_PERCEIVER_CACHE"] = str(
                Path(scratch) / "long-run-cache")
            results["long_run"] = run_command(
                "auto", [*model, *AUTO, "--auto-budget", args.auto_budget],
                args.long_epochs, Path(scratch) / "long-run",
                timeout=args.long_timeout)
            results["stages"].append({"stage": "long run",
                                      "load_average": machine.load_average()})
    results["load_average_after"] = machine.load_average()
    results["total_s"] = time.perf_counter() - start
    (output / "auto_choice.json").write_text(json.dumps(results, indent=1))
    (output / "auto_choice.md").write_text(render(results))
    print(f"See {output}/auto_choice.md")


if __name__ == "__main__":
    main()
