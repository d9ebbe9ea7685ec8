"""Interleaved cross-attends against all at the start (the paper's Table 6).

The same B cross-attends and B latent Transformers, either interleaved (a
cross-attend before every latent Transformer, the default) or all B
cross-attends first (`cross_attend_placement="start"`): the same
parameters (the paper's weight sharing in both), the same budget, several
seeds each, on the shared image task (`image_ablation`).

    python -m benchmarks.paper placement
"""

import numpy as np

from benchmarks.paper import experiment
from benchmarks.paper import image_ablation
from keras_perceiver.reports.tables import markdown_table

DESCRIPTION = ("Interleaved against all-at-start cross-attends (Table 6), "
               "CIFAR-10 2x2 patches")
SETTINGS = {"full": image_ablation.FULL, "quick": image_ablation.QUICK}
PLACEMENTS = ("interleaved", "start")


def run(settings, runs):
    """`{"runs": {placement: seeds' results}, "ms_per_step": {placement:
    ms}}`, the time per step measured side by side after the runs."""
    data = image_ablation.load(settings)
    variants = {placement: {"cross_attend_placement": placement}
                for placement in PLACEMENTS}
    return {
        "runs": {
            placement: image_ablation.run_variant(variant, settings, runs,
                                                  data)
            for placement, variant in variants.items()
        },
        "ms_per_step": image_ablation.step_times(variants, settings, data),
    }


def render(results):
    rows = []
    for placement, seeds in results["runs"].items():
        accuracy = experiment.summary(r["test_accuracy"] for r in seeds)
        rows.append([
            placement, f"{seeds[0]['parameters']:,}",
            experiment.mean_and_spread(accuracy),
            " / ".join(experiment.percent(r["test_accuracy"])
                       for r in seeds),
            f"{results['ms_per_step'][placement]:.0f}",
        ])
    return markdown_table(
        ["placement", "parameters", "test accuracy, mean ± std (range)",
         "per seed", "ms per step (side by side)"], rows)


def plot(results, figure):
    axis = figure.subplots()
    runs = results["runs"]
    for index, (placement, seeds) in enumerate(runs.items()):
        accuracies = [100 * r["test_accuracy"] for r in seeds]
        axis.scatter([index] * len(accuracies), accuracies, label=placement)
        axis.errorbar(index + 0.1, np.mean(accuracies),
                      yerr=np.std(accuracies, ddof=1) if len(seeds) > 1
                      else 0, fmt="o", color="black", capsize=4)
    axis.set_xticks(range(len(runs)), list(runs))
    axis.set_xlim(-0.5, len(runs) - 0.5)
    axis.set_ylabel("test accuracy (%)")
    axis.set_title("Cross-attend placement (seeds; mean ± std)")
