"""Hyperparameter search over Perceivers with KerasTuner.

`PerceiverHyperModel` is the search space (the number of latents N and the
latent depth L by default); `TimeBudget` bounds a search's wall time;
`StepTimer` measures the time per training step; `results_table` and
`write_results` give the results table (CSV, Markdown) and a plot of the
metric against N and L.
Needs the `tuning` extra (`pip install keras-perceiver[tuning]`: KerasTuner
and matplotlib for the plot).
"""

from keras_perceiver.tuning.perceiver_hyper_model import PerceiverHyperModel
from keras_perceiver.tuning.results import results_table
from keras_perceiver.tuning.results import write_results
from keras_perceiver.tuning.step_timer import StepTimer
from keras_perceiver.tuning.time_budget import TimeBudget
from keras_perceiver.tuning.time_budget import TimeBudgetExceeded

__all__ = [
    "PerceiverHyperModel",
    "StepTimer",
    "TimeBudget",
    "TimeBudgetExceeded",
    "results_table",
    "write_results",
]
