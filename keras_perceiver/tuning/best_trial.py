"""`save_best_trial`: the best model of a search and its summary."""

import json

from keras_perceiver.training.atomic_files import atomic_path
from keras_perceiver.training.atomic_files import write_text_atomically
from keras_perceiver.training.recipe import evaluate
from keras_perceiver.training.run_checkpoint import finite_or_none


def save_best_trial(tuner, dataset, output_dir, batch_size):
    """Saves the best trial's model and a summary with its test scores.

    Writes `best_model.keras` and `best.json` (the trial, its
    hyperparameters, its objective, the parameter count, the test loss and
    accuracy measured once here, the number of finished trials) to
    `output_dir`, each atomically.

    Args:
        tuner: a KerasTuner tuner after its search.
        dataset: the `keras_perceiver.datasets.Dataset` searched on (its
            test split is scored).
        output_dir: path. Where the files go.
        batch_size: int. Examples per evaluation batch.

    Returns:
        The summary written to `best.json`, a dict.

    Raises:
        ValueError: if no trial finished.

    Example:

    >>> summary = save_best_trial(tuner, data, pathlib.Path("runs/t"), 64)
    >>> summary["test_accuracy"]  # doctest: +SKIP
    """
    from keras_tuner.engine.trial import TrialStatus

    completed = [
        trial for trial in tuner.oracle.trials.values()
        if trial.status == TrialStatus.COMPLETED
    ]
    if not completed:
        raise ValueError(
            f"no trial finished; see {output_dir / 'results.md'} for why"
        )
    best_trial = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    with atomic_path(output_dir / "best_model.keras") as temporary:
        model.save(temporary)
    test_loss, test_accuracy = evaluate(model, dataset, batch_size)
    summary = {
        "dataset": dataset.name,
        "trial": best_trial.trial_id,
        "hyperparameters": best_trial.hyperparameters.values,
        tuner.oracle.objective.name: finite_or_none(best_trial.score),
        "num_params": int(model.count_params()),
        "test_loss": finite_or_none(test_loss),
        "test_accuracy": finite_or_none(test_accuracy),
        "finished_trials": len(completed),
    }
    write_text_atomically(output_dir / "best.json",
                          json.dumps(summary, indent=2, allow_nan=False))
    return summary
