"""Weight sharing between blocks (the paper's Table 7).

The paper's sharing (the first cross-attend its own, cross-attends 2..B
one shared set, one latent Transformer for all blocks) against no sharing
(every block its own weights) and against everything shared (the first
cross-attend too), at the same budget, several seeds each, on the shared
image task (`image_ablation`): test accuracy, parameter count and time per
training step.

    python -m benchmarks.paper weight_sharing
"""

import numpy as np

from benchmarks.paper import experiment
from benchmarks.paper import image_ablation
from keras_perceiver.reporting import markdown_table

DESCRIPTION = ("Weight sharing: the paper's, none, all (Table 7), "
               "CIFAR-10 2x2 patches")
SETTINGS = {"full": image_ablation.FULL, "quick": image_ablation.QUICK}
SHARING = ("paper", "none", "all")


def run(settings, runs):
    data = image_ablation.load(settings)
    return {
        sharing: image_ablation.run_variant(
            _variant(sharing), settings, runs, data)
        for sharing in SHARING
    }


def _variant(sharing):
    """The paper's sharing is the model's default, so its runs are the
    placement experiment's interleaved runs (the same variant)."""
    variant = {"cross_attend_placement": "interleaved"}
    if sharing != "paper":
        variant["weight_sharing"] = sharing
    return variant


def render(results):
    rows = []
    for sharing, seeds in results.items():
        accuracy = experiment.summary(r["test_accuracy"] for r in seeds)
        final_train = experiment.summary(r["train_accuracy"][-1]
                                         for r in seeds)
        rows.append([
            sharing, f"{seeds[0]['parameters']:,}",
            experiment.mean_and_spread(accuracy),
            experiment.percent(final_train["mean"]),
            f"{np.mean([r['seconds_per_step'] for r in seeds]) * 1000:.0f}",
        ])
    return markdown_table(
        ["weight sharing", "parameters", "test accuracy, mean ± std (range)",
         "training accuracy, last epoch (mean)", "ms per step"], rows)


def plot(results, figure):
    accuracy_axis, time_axis = figure.subplots(1, 2)
    for index, (sharing, seeds) in enumerate(results.items()):
        accuracies = [100 * r["test_accuracy"] for r in seeds]
        accuracy_axis.scatter([seeds[0]["parameters"]] * len(accuracies),
                              accuracies, label=sharing)
        time_axis.bar(index, 1000 * np.mean(
            [r["seconds_per_step"] for r in seeds]))
    accuracy_axis.set_xscale("log")
    accuracy_axis.set_xlabel("parameters")
    accuracy_axis.set_ylabel("test accuracy (%)")
    accuracy_axis.legend(title="sharing")
    time_axis.set_xticks(range(len(results)), list(results))
    time_axis.set_ylabel("ms per training step")
