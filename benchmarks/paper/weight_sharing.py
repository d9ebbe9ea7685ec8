"""Weight sharing between blocks (the paper's Table 7).

The paper's sharing (the first cross-attend its own, cross-attends 2..B
one shared set, one latent Transformer for all blocks) against no sharing
(every block its own weights) and against everything shared (the first
cross-attend too), at the same budget, several seeds each, on the shared
image task (`image_ablation`): test accuracy, parameter count and time per
training step.

    python -m benchmarks.paper weight_sharing
"""

from benchmarks.paper import experiment
from benchmarks.paper import image_ablation
from keras_perceiver.reports.tables import markdown_table

DESCRIPTION = ("Weight sharing: the paper's, none, all (Table 7), "
               "CIFAR-10 2x2 patches")
SETTINGS = {"full": image_ablation.FULL, "quick": image_ablation.QUICK}
SHARING = ("paper", "none", "all")


def run(settings, runs):
    """`{"runs": {sharing: seeds' results}, "ms_per_step": {sharing: ms}}`;
    the time per step is measured side by side after the runs, as the runs'
    own epoch times mix the machine loads of different sessions."""
    data = image_ablation.load(settings)
    return {
        "runs": {
            sharing: image_ablation.run_variant(
                _variant(sharing), settings, runs, data)
            for sharing in SHARING
        },
        "ms_per_step": image_ablation.step_times(
            {sharing: _variant(sharing) for sharing in SHARING}, settings,
            data),
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
    for sharing, seeds in results["runs"].items():
        accuracy = experiment.summary(r["test_accuracy"] for r in seeds)
        final_train = experiment.summary(r["train_accuracy"][-1]
                                         for r in seeds)
        rows.append([
            sharing, f"{seeds[0]['parameters']:,}",
            experiment.mean_and_spread(accuracy),
            experiment.percent(final_train["mean"]),
            f"{results['ms_per_step'][sharing]:.0f}",
        ])
    return markdown_table(
        ["weight sharing", "parameters", "test accuracy, mean ± std (range)",
         "training accuracy, last epoch (mean)",
         "ms per step (side by side)"], rows)


def plot(results, figure):
    accuracy_axis, time_axis = figure.subplots(1, 2)
    for index, (sharing, seeds) in enumerate(results["runs"].items()):
        accuracies = [100 * r["test_accuracy"] for r in seeds]
        accuracy_axis.scatter([seeds[0]["parameters"]] * len(accuracies),
                              accuracies, label=sharing)
        time_axis.bar(index, results["ms_per_step"][sharing])
    accuracy_axis.set_xscale("log")
    accuracy_axis.set_xlabel("parameters")
    accuracy_axis.set_ylabel("test accuracy (%)")
    accuracy_axis.legend(title="sharing")
    time_axis.set_xticks(range(len(results["runs"])), list(results["runs"]))
    time_axis.set_ylabel("ms per training step (side by side)")
