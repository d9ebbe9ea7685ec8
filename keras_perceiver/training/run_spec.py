"""What one training run is: the data, the model, the recipe, the folder."""

import dataclasses
import math
import numbers
import pathlib
from typing import Any, Callable, Optional

from keras_perceiver import argument_checks
from keras_perceiver.training.defaults import LEARNING_RATE
from keras_perceiver.training.defaults import SCHEDULES
from keras_perceiver.training.defaults import WEIGHT_DECAY

# What a run writes in its folder: its checkpoints' subfolder and results.
CHECKPOINTS = "checkpoints"
RESULT_FILES = ("model.keras", "history.csv", "training_curves.png",
                "attention_maps.png", "metrics.json")
# The fields that define a run when `run_options` is not given: a checkpoint
# written under other values is refused on resuming.
DEFINING_FIELDS = ("batch_size", "learning_rate", "mixed_precision",
                   "schedule", "seed", "validation_split", "weight_decay")


@dataclasses.dataclass
class RunSpec:
    """A training run for `TrainingRun`: what to train, how, and where.

    The fields mirror the options of `keras-perceiver train` (`epochs` is
    `--epochs`, `continue_training` is `--continue`...), and the errors a
    run raises name both spellings.

    Args:
        dataset: a `keras_perceiver.datasets.Dataset`, or a function of no
            arguments that returns one (called only when there is training
            to do: a finished run loads no data).
        output_dir: str, path or None. The run folder; started again with
            the same folder, the run resumes. None makes a new folder
            `runs/<name>/<date-time>` (`runs/<name>/latest` names it).
            Defaults to None.
        name: str or None. The folder name under `runs/` when `output_dir`
            is None. Defaults to the data set's name.
        build_model: a function from the data set to an uncompiled
            classifier, or None for `perceiver_for_dataset(dataset)`.
            Defaults to None.
        epochs: int. Passes over the training data. Defaults to 10.
        batch_size: int. Examples per step. Defaults to 64.
        learning_rate: float. Peak learning rate. Defaults to 1e-3.
        schedule: str. `"cosine"` or `"constant"` (see
            `learning_rate_schedule`). Defaults to `"cosine"`.
        weight_decay: float. AdamW weight decay. Defaults to 1e-4.
        validation_split: float in [0, 1). Training data held out for the
            validation curves. Defaults to 0.1.
        mixed_precision: bool. Train in `mixed_bfloat16`. Defaults to False.
        jit_compile: bool. Compile the training step (else Keras' "auto").
            Defaults to False.
        seed: int. Seeds weights, shuffling and dropout. Defaults to 0.
        continue_training: bool. Train a finished run further, up to
            `epochs`. Defaults to False.
        restart: bool. Delete what earlier runs wrote in `output_dir` (only
            that) and train afresh. Defaults to False.
        overwrite_output_dir: bool. Write into an `output_dir` of other
            files (they are left alone). Defaults to False.
        run_options: dict of JSON values or None. What defines the run for
            resuming; None takes the recipe fields and the data set's name.
            Defaults to None.
        distributed: a `keras_perceiver.distribution.DistributedTraining` or
            None (one device). Defaults to None.
        draw_attention_maps: bool. Write `attention_maps.png` (every
            Perceiver task has maps to draw; a fine-tuned checkpoint's
            model, which resizes the images first, has none). Defaults to
            True.

    Example:

    >>> spec = RunSpec(keras_perceiver.datasets.load("digits"),
    ...                output_dir="runs/digits-demo", epochs=2)
    """

    dataset: Any
    output_dir: Optional[Any] = None
    name: Optional[str] = None
    build_model: Optional[Callable] = None
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = LEARNING_RATE
    schedule: str = "cosine"
    weight_decay: float = WEIGHT_DECAY
    validation_split: float = 0.1
    mixed_precision: bool = False
    jit_compile: bool = False
    seed: int = 0
    continue_training: bool = False
    restart: bool = False
    overwrite_output_dir: bool = False
    run_options: Optional[dict] = None
    distributed: Any = None
    draw_attention_maps: bool = True

    def __post_init__(self):
        argument_checks.check_positive_int("epochs", self.epochs)
        argument_checks.check_positive_int("batch_size", self.batch_size)
        _check_at_least("learning_rate", self.learning_rate, 0.0,
                        low_included=False)
        _check_at_least("weight_decay", self.weight_decay, 0.0)
        argument_checks.check_fraction("validation_split",
                                       self.validation_split)
        argument_checks.check_choice("schedule", self.schedule, SCHEDULES)
        if self.continue_training and self.restart:
            raise ValueError(
                "Give `continue_training` or `restart`, not both. Received: "
                "continue_training=True, restart=True"
            )
        if self.output_dir is None and self.folder_name() is None:
            raise ValueError(
                "Without `output_dir`, a run needs a `name` for its folder "
                "under runs/ (or a Dataset, whose name is taken). Received: "
                f"dataset={self.dataset!r}"
            )

    def folder_name(self):
        """The folder name under `runs/`: `name`, or the data set's."""
        return self.name or getattr(self.dataset, "name", None)

    def new_folder_parent(self):
        """Where a run without `output_dir` makes its folder."""
        return pathlib.Path("runs") / self.folder_name()

    def options(self):
        """The run options checkpoints record (see `run_options`)."""
        if self.run_options is not None:
            return self.run_options
        options = {name: getattr(self, name) for name in DEFINING_FIELDS}
        options["data"] = self.folder_name()
        return options


def _check_at_least(name, value, low, low_included=True):
    """Raises unless `value` is a finite number >= `low` (> `low`)."""
    number = (isinstance(value, numbers.Real) and not isinstance(value, bool)
              and math.isfinite(value))
    if not (number and (value >= low if low_included else value > low)):
        relation = ">=" if low_included else ">"
        raise ValueError(
            f"`{name}` must be a finite number {relation} {low}. Received: "
            f"{name}={value!r}"
        )
