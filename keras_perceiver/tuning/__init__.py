"""Hyperparameter search over Perceivers with KerasTuner.

`PerceiverHyperModel` is the search space (the number of latents N and the
latent depth L by default); `crash_safe_tuner` runs a KerasTuner search
that a kill neither damages nor shortens (`state_written_atomically`,
`resume_interrupted_trials`); `search_data` samples the examples to search
on; `TimeBudget` bounds a search's wall time; `StepTimer` measures the time
per training step; `results_table` and `write_results` give the results
table (CSV, Markdown) and a plot of the metric against N and L;
`save_best_trial` saves the best model with its test scores.
Needs the `tuning` extra (`pip install keras-perceiver[tuning]`: KerasTuner
and matplotlib for the plot).
"""

from keras_perceiver.tuning.best_trial import save_best_trial
from keras_perceiver.tuning.crash_safety import crash_safe_tuner
from keras_perceiver.tuning.crash_safety import resume_interrupted_trials
from keras_perceiver.tuning.crash_safety import state_written_atomically
from keras_perceiver.tuning.perceiver_hyper_model import PerceiverHyperModel
from keras_perceiver.tuning.results import results_table
from keras_perceiver.tuning.results import write_results
from keras_perceiver.tuning.search_data import search_data
from keras_perceiver.tuning.step_timer import StepTimer
from keras_perceiver.tuning.time_budget import TimeBudget
from keras_perceiver.tuning.time_budget import TimeBudgetExceeded

__all__ = [
    "PerceiverHyperModel",
    "StepTimer",
    "TimeBudget",
    "TimeBudgetExceeded",
    "crash_safe_tuner",
    "results_table",
    "resume_interrupted_trials",
    "save_best_trial",
    "search_data",
    "state_written_atomically",
    "write_results",
]
