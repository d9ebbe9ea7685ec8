"""A real hyperparameter search: N, L and the learning rate on FSDD log-mel.

`keras-perceiver tune` (KerasTuner's Bayesian optimisation) searches the
number of latents N, the self-attention layers per block L and the peak
learning rate for the FSDD log-mel Perceiver, training each trial for the
same epochs on 90 % of the training recordings and selecting on the
validation accuracy of the other 10 %. The hand-picked default (N = 64,
L = 2, learning rate 1e-3) is scored the same way, as a search of one
fixed trial, and both best models are tested once on the 300 test
recordings. The searches run in the experiment's checkpoint folder, so a
stopped search resumes where it stopped.

    python -m benchmarks.paper hyperparameter_search
"""

import csv
import json
import subprocess
import sys

import keras
import numpy as np

from benchmarks.paper import experiment
from keras_perceiver.reports.tables import markdown_table

DESCRIPTION = ("A hyperparameter search over N, L and the learning rate "
               "(KerasTuner, Bayesian), FSDD log-mel")
SEARCH_SPACE = {"num-latents": "16,32,64,128,256",
                "num-self-attends-per-block": "1,2,4",
                "learning-rate": "3e-4:3e-3:log"}
DEFAULT = {"num-latents": "64", "num-self-attends-per-block": "2",
           "learning-rate": "1e-3"}
SETTINGS = {
    "full": dict(max_trials=12, epochs=6, batch_size=32,
                 max_train_samples=None, fixed=["--dropout", "0.1"],
                 search_space=SEARCH_SPACE,
                 data_dir=str(experiment.DATA_DIR / "fsdd")),
    "quick": dict(max_trials=2, epochs=1, batch_size=32,
                  max_train_samples=100,
                  fixed=["--latent-dim", "16", "--num-bands", "2",
                         "--num-self-heads", "2"],
                  search_space={"num-latents": "4,8",
                                "num-self-attends-per-block": "1,2",
                                "learning-rate": "3e-4:3e-3:log"},
                  data_dir=str(experiment.DATA_DIR / "fsdd")),
}
NUMERIC_COLUMNS = ("num_latents", "num_self_attends_per_block",
                   "learning_rate", "val_accuracy", "num_params",
                   "time_per_step_ms")


def tune(folder, space, max_trials, settings):
    """Runs (or resumes) `keras-perceiver tune` in `folder`; returns its
    best.json and the rows of its results.csv."""
    command = [
        sys.executable, "-m", "keras_perceiver_command", "--backend",
        keras.config.backend(), "tune", "--dataset", "fsdd",
        "--data-dir", settings["data_dir"], "--audio-features", "log_mel",
        "--tuner", "bayesian", "--max-trials", str(max_trials),
        "--epochs", str(settings["epochs"]),
        "--batch-size", str(settings["batch_size"]), "--seed", "0",
        "--verbose", "2", "--output-dir", str(folder), *settings["fixed"],
    ]
    for name, value in space.items():
        command += [f"--{name}", value]
    if settings["max_train_samples"]:
        command += ["--max-train-samples", str(settings["max_train_samples"])]
    subprocess.run(command, check=True, cwd=experiment.ROOT)
    best = json.loads((folder / "best.json").read_text())
    with (folder / "results.csv").open() as table:
        rows = [_numbers(row) for row in csv.DictReader(table)]
    return {"best": best, "trials": rows, "command": " ".join(command[1:])}


def _numbers(row):
    return {key: (float(value) if key in NUMERIC_COLUMNS and value
                  else value) for key, value in row.items()}


def run(settings, runs):
    return {
        "search": runs.get_or_run(
            "fsdd log-mel/search", lambda folder: tune(
                folder, settings["search_space"], settings["max_trials"],
                settings)),
        "default": runs.get_or_run(
            "fsdd log-mel/default", lambda folder: tune(
                folder, DEFAULT, 1, settings)),
    }


def render(results):
    trials = [t for t in results["search"]["trials"]
              if t["status"] == "COMPLETED"]
    rows = [[t["trial"], int(t["num_latents"]),
             int(t["num_self_attends_per_block"]),
             f"{t['learning_rate']:.2g}",
             experiment.percent(t["val_accuracy"]),
             f"{int(t['num_params']):,}", f"{t['time_per_step_ms']:.0f}"]
            for t in sorted(trials, key=lambda t: -t["val_accuracy"])]
    comparison = []
    for name in ("search", "default"):
        best = results[name]["best"]
        hyperparameters = best["hyperparameters"]
        comparison.append([
            "best of the search" if name == "search" else
            "hand-picked default", hyperparameters["num_latents"],
            hyperparameters["num_self_attends_per_block"],
            f"{hyperparameters['learning_rate']:.2g}",
            experiment.percent(best["val_accuracy"]),
            experiment.percent(best["test_accuracy"]),
            f"{best['num_params']:,}"])
    return "\n".join([
        f"{len(trials)} trials finished. Selection on the validation "
        "accuracy; the test set scores only the two chosen models:", "",
        markdown_table(["model", "N", "L", "learning rate",
                        "validation accuracy", "test accuracy",
                        "parameters"], comparison), "",
        "Every trial, best first:", "",
        markdown_table(["trial", "N", "L", "learning rate",
                        "validation accuracy", "parameters", "ms per step"],
                       rows),
    ])


def plot(results, figure):
    trials = [t for t in results["search"]["trials"]
              if t["status"] == "COMPLETED"]
    latents_axis, depth_axis = figure.subplots(1, 2, sharey=True)
    for axis, key, other, label in (
            (latents_axis, "num_latents", "num_self_attends_per_block",
             "number of latents N"),
            (depth_axis, "num_self_attends_per_block", "num_latents",
             "self-attention layers per block L")):
        points = axis.scatter(
            [t[key] for t in trials],
            [100 * t["val_accuracy"] for t in trials],
            c=np.log2([t[other] for t in trials]), cmap="viridis")
        axis.set_xlabel(label)
        figure.colorbar(points, ax=axis, label=f"log2 {other}")
    latents_axis.set_xscale("log", base=2)
    latents_axis.set_ylabel("validation accuracy (%)")
