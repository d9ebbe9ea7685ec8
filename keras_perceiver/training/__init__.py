"""Training: the recipe, the learning-rate schedule, and the machinery of a
run that survives being killed (run checkpoints, the run folder, atomic
files).

- `compile_for_classification`, `learning_rate_schedule`,
  `steps_per_epoch`, `evaluate`, `compile_for_evaluation`: the recipe that
  `keras-perceiver train`, `tune` and `evaluate`, `PerceiverHyperModel`
  and the examples share (`recipe`); the defaults are in `defaults`.
- `compile_for_flow`, `end_point_error`, `EndPointError`: the optical-flow
  recipe (`flow_recipe`) and its loss and metric (`flow_metrics`).
- `compile_for_multimodal_autoencoding`, `multimodal_autoencoding_losses`,
  `psnr`: the multimodal autoencoding recipe (`multimodal_recipe`).
- `compile_for_causal_lm`, `bits_per_byte`: the next-byte recipe of a
  `PerceiverCausalLM` (`causal_lm_recipe`).
- `warmup_cosine_decay`: the schedule (`schedules`).
- `compile_repeated_blocks`, `step_jit_compile`: torch's compiled step,
  `torch.compile` on each repeated block rather than the whole step
  (`regional_compile`), what the recipes' `jit_compile=True` runs there.
- `RunCheckpoint`: a callback that saves every epoch atomically and
  resumes a killed run where it stopped (`run_checkpoint`).
- `RunDirectory`: a run folder the tool owns, locked while it runs
  (`run_directory`).
- `RunSpec`, `TrainingRun`: a whole run, as `keras-perceiver train` runs
  it: a spec in, a finished (resumable) run folder out (`run_spec`,
  `training_run`).

The names load on their first use, so the command line reads the defaults
without loading Keras.

Example:

>>> data = keras_perceiver.datasets.load("digits")
>>> model = keras_perceiver.models.perceiver_for_dataset(data)
>>> steps = keras_perceiver.training.steps_per_epoch(
...     data.num_train_examples, 64, 0.1)
>>> keras_perceiver.training.compile_for_classification(
...     model, keras_perceiver.training.learning_rate_schedule(1e-3, steps))
"""

from keras_perceiver.optional_dependencies import names_loaded_on_use

_RECIPE = f"{__name__}.recipe"
_MULTIMODAL = f"{__name__}.multimodal_recipe"
_PUBLIC_NAMES = {
    "bits_per_byte": f"{__name__}.causal_lm_recipe",
    "compile_for_causal_lm": f"{__name__}.causal_lm_recipe",
    "compile_for_classification": _RECIPE,
    "compile_for_evaluation": _RECIPE,
    "compile_for_flow": f"{__name__}.flow_recipe",
    "compile_for_multimodal_autoencoding": _MULTIMODAL,
    "compile_repeated_blocks": f"{__name__}.regional_compile",
    "end_point_error": f"{__name__}.flow_metrics",
    "EndPointError": f"{__name__}.flow_metrics",
    "evaluate": _RECIPE,
    "learning_rate_schedule": _RECIPE,
    "multimodal_autoencoding_losses": _MULTIMODAL,
    "psnr": _MULTIMODAL,
    "steps_per_epoch": _RECIPE,
    "step_jit_compile": f"{__name__}.regional_compile",
    "GRADIENT_CLIP_NORM": f"{__name__}.defaults",
    "LEARNING_RATE": f"{__name__}.defaults",
    "SCHEDULES": f"{__name__}.defaults",
    "WEIGHT_DECAY": f"{__name__}.defaults",
    "warmup_cosine_decay": f"{__name__}.schedules",
    "RunCheckpoint": f"{__name__}.run_checkpoint",
    "RunDirectory": f"{__name__}.run_directory",
    "RunSpec": f"{__name__}.run_spec",
    "TrainingRun": f"{__name__}.training_run",
}
__all__ = sorted(_PUBLIC_NAMES)
__getattr__, __dir__ = names_loaded_on_use(__name__, _PUBLIC_NAMES)
