import inspect

from keras_perceiver import argument_checks
from keras_perceiver.models.perceiver import Perceiver
from keras_perceiver.models.perceiver_encoder import PerceiverEncoder
from keras_perceiver.models.perceiver_io_classifier import (
    PerceiverIOClassifier,
)
from keras_perceiver.optional_dependencies import import_optional
from keras_perceiver.training import (
    LEARNING_RATE,
    WEIGHT_DECAY,
    compile_for_classification,
)
from keras_perceiver.training.defaults import MODEL_HYPERPARAMETERS
from keras_perceiver.training.defaults import OPTIMIZER_HYPERPARAMETERS
from keras_perceiver.tuning.step_timer import StepTimer

# The first import of keras_perceiver.tuning: a missing KerasTuner is named.
keras_tuner = import_optional("keras_tuner", "keras_perceiver.tuning")

RANGE_KEYS = ("min_value", "max_value", "step", "sampling")
CLASSIFIERS = ("perceiver", "perceiver_io")


class PerceiverHyperModel(keras_tuner.HyperModel):
    """A KerasTuner search space over Perceiver classifiers.

    Every searchable setting takes one of three forms:
    - a single value fixes it (`hp.Fixed`), e.g. `latent_dim=128`;
    - a list or tuple of values makes it a choice (`hp.Choice`), e.g.
      `num_latents=[32, 64, 128]`;
    - a dict with `min_value`, `max_value` and optionally `step` and
      `sampling` (`"linear"`, `"log"` or `"reverse_log"`) makes it a range
      (`hp.Int` for the model sizes, `hp.Float` for the optimizer), e.g.
      `learning_rate={"min_value": 1e-4, "max_value": 1e-2,
      "sampling": "log"}`.

    The hyperparameters carry the names of the arguments below. By default
    the number of latents N and the latent depth L are searched and all else
    is fixed. `build` returns a built classifier, compiled as
    `keras-perceiver train` compiles (`keras_perceiver.training.
    compile_for_classification`: AdamW with gradient clipping at norm 1,
    sparse categorical cross-entropy on the logits, accuracy), so a tuner's
    `max_model_size` can bound the parameter count: KerasTuner marks the
    trials over it as failed without training them. `fit` adds two metrics to
    each trial: `num_params` and `time_per_step` (seconds, see `StepTimer`).

    The search space of a tuner that resumes from its directory is the one
    saved there; start a new directory (or pass `overwrite=True` to the
    tuner) after changing it.

    Args:
        input_shape: tuple of ints, or a (nested) dict of them for dict
            inputs. The shape of one example, without the batch axis.
        num_classes: int. Number of classes.
        num_latents: number of latents N. Defaults to `(32, 64, 128, 256)`.
        num_self_attends_per_block: self-attention layers L per block.
            Defaults to `(1, 2, 4, 6)`.
        latent_dim: latent width D. Defaults to 128.
        num_blocks: number of cross-attends B. Defaults to 2.
        num_cross_heads: cross-attention heads. Defaults to 1.
        num_self_heads: self-attention heads; every choice must divide every
            `latent_dim`. Defaults to 4.
        learning_rate: AdamW learning rate. Defaults to 1e-3.
        weight_decay: AdamW weight decay. Defaults to 1e-4.
        classifier: str. `"perceiver"` (a `Perceiver`: the latents'
            mean and a linear head) or `"perceiver_io"` (a
            `PerceiverIOClassifier`: a learned query decoded into the
            logits). Defaults to `"perceiver"`.
        class_names: list of str or None. A name per class, kept with every
            model (the command line's `predict` prints them). Defaults to
            None.
        input_preprocessing: dict or None. How raw files become the inputs
            (`Dataset.preprocessing` of data read from files), kept with
            every model so `predict` reads files as training did; only
            `classifier="perceiver"` keeps it. Defaults to None.
        **perceiver_kwargs: fixed `keras_perceiver.PerceiverEncoder`
            arguments, such as `num_bands`, `weight_sharing`,
            `block_scheme`, `dropout` or `input_adapter`.

    Example:

    >>> hypermodel = PerceiverHyperModel(
    ...     input_shape=(8, 8, 1), num_classes=10,
    ...     num_latents=[16, 32], num_self_attends_per_block=[1, 2],
    ...     latent_dim=32, num_bands=4)
    >>> tuner = keras_tuner.RandomSearch(
    ...     hypermodel, objective="val_accuracy", max_trials=4,
    ...     directory="runs", project_name="digits")  # doctest: +SKIP
    >>> tuner.search(x_train, y_train, epochs=3,
    ...              validation_data=(x_val, y_val))  # doctest: +SKIP
    >>> best = tuner.get_best_hyperparameters()[0]  # doctest: +SKIP
    >>> model = hypermodel.build(best)  # doctest: +SKIP
    """

    def __init__(self, input_shape, num_classes,
                 num_latents=(32, 64, 128, 256),
                 num_self_attends_per_block=(1, 2, 4, 6), latent_dim=128,
                 num_blocks=2, num_cross_heads=1, num_self_heads=4,
                 learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY,
                 classifier="perceiver", class_names=None,
                 input_preprocessing=None, **perceiver_kwargs):
        super().__init__()
        self.classifier = argument_checks.check_choice(
            "classifier", classifier, CLASSIFIERS
        )
        self.input_shape = _check_input_shape(input_shape)
        self.num_classes = argument_checks.check_positive_int(
            "num_classes", num_classes
        )
        self.class_names = argument_checks.check_class_names(
            class_names, num_classes
        )
        if input_preprocessing is not None and classifier != "perceiver":
            raise ValueError(
                "`input_preprocessing` is kept by classifier='perceiver' "
                f"models only. Received: classifier={classifier!r}"
            )
        self.input_preprocessing = input_preprocessing
        self.search_space = {
            "num_latents": num_latents,
            "num_self_attends_per_block": num_self_attends_per_block,
            "latent_dim": latent_dim,
            "num_blocks": num_blocks,
            "num_cross_heads": num_cross_heads,
            "num_self_heads": num_self_heads,
            "learning_rate": learning_rate,
            "weight_decay": weight_decay,
        }
        self.perceiver_kwargs = _check_perceiver_kwargs(perceiver_kwargs)
        # Raises now, not inside a trial, if a setting is malformed.
        self.declare_hyperparameters(keras_tuner.HyperParameters())

    def declare_hyperparameters(self, hp):
        """Registers the search space in `hp` and returns the current values.

        Args:
            hp: `keras_tuner.HyperParameters`.

        Returns:
            A dict from hyperparameter name to its value in `hp`.
        """
        return {
            name: _declare(hp, name, spec, _value_type(name))
            for name, spec in self.search_space.items()
        }

    def build(self, hp):
        """Builds and compiles the classifier that `hp` describes.

        Args:
            hp: `keras_tuner.HyperParameters`.

        Returns:
            A built, compiled `keras_perceiver.Perceiver` (or
            `PerceiverIOClassifier`) whose optimizer is built too.
        """
        values = self.declare_hyperparameters(hp)
        encoder_kwargs = {
            **{name: values[name] for name in MODEL_HYPERPARAMETERS},
            **self._fresh_perceiver_kwargs(),
        }
        if self.classifier == "perceiver_io":
            model = PerceiverIOClassifier(
                PerceiverEncoder(**encoder_kwargs), self.num_classes,
                class_names=self.class_names,
            )
        else:
            model = Perceiver(
                num_classes=self.num_classes, class_names=self.class_names,
                input_preprocessing=self.input_preprocessing,
                **encoder_kwargs,
            )
        model.build(_batched(self.input_shape))
        compile_for_classification(
            model, learning_rate=values["learning_rate"],
            weight_decay=values["weight_decay"],
        )
        # With the optimizer built, checkpoints restore its state too (as
        # Hyperband does when it continues a trial).
        model.optimizer.build(model.trainable_variables)
        return model

    def _fresh_perceiver_kwargs(self):
        # Every model gets its own copy of the input adapter: a layer (and
        # its weights) must not be shared by the models of different trials.
        kwargs = dict(self.perceiver_kwargs)
        adapter = kwargs.get("input_adapter")
        if adapter is not None:
            kwargs["input_adapter"] = adapter.__class__.from_config(
                adapter.get_config()
            )
        return kwargs

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        """Trains `model` and records its parameter count and step time.

        Args:
            hp: `keras_tuner.HyperParameters`.
            model: the model `build` returned.
            *args: passed to `model.fit`.
            callbacks: list of Keras callbacks (the tuner's and the user's).
            **kwargs: passed to `model.fit`.

        Returns:
            The `History`, with `time_per_step` and `num_params` per epoch.
        """
        history = model.fit(
            *args, callbacks=[*(callbacks or []), StepTimer()], **kwargs
        )
        history.history["num_params"] = [model.count_params()] * len(
            history.epoch
        )
        return history


def _value_type(name):
    return float if name in OPTIMIZER_HYPERPARAMETERS else int


def _declare(hp, name, spec, value_type):
    try:
        if isinstance(spec, dict):
            return _declare_range(hp, name, spec, value_type)
        if isinstance(spec, (list, tuple, range)):
            values = [_cast(value, value_type) for value in spec]
            return hp.Choice(name, values)
        return hp.Fixed(name, _cast(spec, value_type))
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"`{name}` must be one {value_type.__name__} (fixed), a list of "
            f"them (choices) or a dict with keys {list(RANGE_KEYS)} (a "
            f"range); {error}. Received: {name}={spec!r}"
        ) from None


def _declare_range(hp, name, spec, value_type):
    unknown = set(spec) - set(RANGE_KEYS)
    if unknown or not {"min_value", "max_value"} <= set(spec):
        raise ValueError(
            "a range needs `min_value` and `max_value` and takes only "
            f"{list(RANGE_KEYS)}"
        )
    bounds = {
        key: _cast(spec[key], value_type)
        for key in ("min_value", "max_value", "step")
        if spec.get(key) is not None
    }
    declare = hp.Int if value_type is int else hp.Float
    return declare(name, sampling=spec.get("sampling", "linear"), **bounds)


def _cast(value, value_type):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is not a number")
    if value_type is int and not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value_type(value)


def _check_input_shape(input_shape):
    if not _is_shape_structure(input_shape):
        raise ValueError(
            "`input_shape` must be the shape of one example (a non-empty "
            "tuple of ints, without the batch axis) or a (nested) dict of "
            f"such shapes. Received: input_shape={input_shape!r}"
        )
    return input_shape


def _is_shape_structure(input_shape):
    if isinstance(input_shape, dict):
        return bool(input_shape) and all(
            _is_shape_structure(shape) for shape in input_shape.values()
        )
    return (
        isinstance(input_shape, (tuple, list))
        and len(input_shape) > 0
        and all(isinstance(size, int) for size in input_shape)
    )


def _check_perceiver_kwargs(perceiver_kwargs):
    parameters = inspect.signature(PerceiverEncoder.__init__).parameters
    allowed = set(parameters) - {"self", "kwargs"}
    unknown = sorted(set(perceiver_kwargs) - allowed)
    if unknown:
        raise ValueError(
            "Unknown Perceiver arguments. Expected some of "
            f"{sorted(allowed - set(MODEL_HYPERPARAMETERS))}. "
            f"Received: {unknown}"
        )
    return perceiver_kwargs


def _batched(input_shape):
    if isinstance(input_shape, dict):
        return {key: _batched(shape) for key, shape in input_shape.items()}
    return (None, *input_shape)
