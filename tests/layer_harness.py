"""One harness for the checks every layer, adapter and model test makes.

In the spirit of keras-hub's `TestCase.run_layer_test` and
`run_task_test`: test files call `run_layer_test` (a layer, trained inside
a small model), `run_adapter_test` (an input adapter, trained inside a
tiny Perceiver) or `run_task_test` (a model, trained as it is) once per
configuration and keep only their own behavioural tests. Every run checks:

- the config round trip (config -> from_config -> the same config);
- an eager call: output shapes and float32 (or bool) dtypes, and
  `compute_output_shape` equal to the real shapes;
- a symbolic call (`compute_output_spec`): the real shapes, batch None,
  and the real dtypes;
- masks, where the inputs carry one: values under the mask's False
  entries do not change the outputs;
- mixed precision: under `mixed_bfloat16` the variables stay float32 and
  the outputs are finite (see `mixed_precision`);
- a training step (finite losses, changed weights; eager on TensorFlow,
  see `TRAIN_EAGERLY`) and the `.keras` round trip (the same outputs and
  config);
- for tasks, on request, the cross-backend load: the same model saved
  under each backend (`tests/fixtures/cross_backend/`, written by
  `make_cross_backend.py` there) loads here with its recorded outputs.

The round-trip helpers (`assert_config_round_trip`,
`assert_keras_file_round_trip`, `assert_same_config`) serve tests that
check one round trip of their own.
"""

import json
import pathlib

import keras
import numpy as np

from support import TINY_PERCEIVER, adapter_perceiver, as_float32, to_numpy

CROSS_BACKEND_FIXTURES = (
    pathlib.Path(__file__).parent / "fixtures" / "cross_backend"
)
BACKENDS = ("jax", "tensorflow", "torch")
# The training step runs eagerly on TensorFlow: tracing the step function
# of a tiny model took 10 times as long as two eager steps (31.5 s against
# 3.3 s for a Perceiver, 7 December 2026), and the model tests' `fit` calls
# and the command's flows cover traced training. On JAX eager steps were
# slower (31.2 s against 13.3 s jitted); torch trains eagerly anyway.
TRAIN_EAGERLY = keras.config.backend() == "tensorflow"


def run_layer_test(
    layer_cls,
    init_kwargs,
    call_args,
    tmp_path,
    *,
    call_kwargs=None,
    config_kwargs=None,
    expected_output_shape=None,
    make_model=None,
    targets=None,
    loss="mse",
    mixed_precision="rounded",
    trainable=True,
):
    """Runs the standard checks on `layer_cls(**init_kwargs)`.

    Args:
        layer_cls: the layer class, or a function that makes one from
            keyword arguments.
        init_kwargs: dict. The constructor arguments of the layer that is
            called, trained and saved.
        call_args: tuple of NumPy structures (arrays, dicts of arrays), the
            positional call arguments; the first axis is the batch. A dict
            with `"inputs"` and `"mask"` entries is a masked input.
        tmp_path: a folder for the `.keras` file.
        call_kwargs: dict or None. Keyword call arguments; a `mask` masks
            the last positional argument.
        config_kwargs: dict or None. Constructor arguments for the config
            round trip, to cover options that `call_args` do not fit.
            Defaults to `init_kwargs`.
        expected_output_shape: a shape or structure of shapes (None for an
            absent output) of the eager call, or None to skip the check.
        make_model: callable or None. Wraps the called layer in the model
            that is trained and saved. Defaults to a functional model of
            the layer on `keras.Input`s shaped like `call_args`.
        targets: the training targets. Defaults to random values shaped
            like the model's output.
        loss: the training loss. Defaults to "mse".
        mixed_precision: what the floating outputs are under
            `mixed_bfloat16`: "rounded" (the float32 outputs rounded to
            bfloat16: the layer computes in float32 and casts at the end),
            "finite" (bfloat16 and finite) or "float32" (finite float32, as
            a model's logits). Defaults to "rounded".
        trainable: bool. Whether the layer has weights to train: False
            skips the training step (a layer without weights, such as
            `FourierPositionEncoding`). Defaults to True.

    Returns:
        The trained model and the model restored from its `.keras` file,
        for further checks.
    """
    call_kwargs = call_kwargs or {}
    assert_config_round_trip(layer_cls(**(config_kwargs or init_kwargs)))
    layer, outputs = _check_calls(layer_cls, init_kwargs, call_args,
                                  call_kwargs, expected_output_shape)
    _check_mixed_precision(layer_cls, init_kwargs, call_args, call_kwargs,
                           layer, outputs, mixed_precision)
    make_model = make_model or _functional_model(call_args, call_kwargs)
    model_inputs = list(call_args) + list(_arrays(call_kwargs).values())
    model_inputs = model_inputs[0] if len(model_inputs) == 1 else model_inputs
    # The called layer is trained and saved inside the model; a new one
    # checks that the model also builds on symbolic inputs.
    model = make_model(layer)
    _check_symbolic_model_call(make_model(layer_cls(**init_kwargs)),
                               model_inputs, model)
    if trainable:
        _check_training_step(model, model_inputs, targets, loss)
    return model, _check_saving(model, model_inputs, tmp_path)


def run_adapter_test(adapter_cls, init_kwargs, inputs, tmp_path, **kwargs):
    """`run_layer_test` for an input adapter, trained inside a Perceiver.

    The adapter is called on `inputs` (a batch, or a dict with a mask); a
    tiny one-block Perceiver on it (`make_model`, defaults to
    `adapter_perceiver`) is trained on class labels and saved. Other keyword
    arguments go to `run_layer_test`.
    """
    batch_size = len(keras.tree.flatten(inputs)[0])
    return run_layer_test(
        adapter_cls, init_kwargs, (inputs,), tmp_path,
        make_model=kwargs.pop("make_model", adapter_perceiver),
        targets=np.arange(batch_size) % TINY_PERCEIVER["num_classes"],
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        **kwargs,
    )


def run_task_test(
    task_cls,
    init_kwargs,
    inputs,
    tmp_path,
    *,
    config_kwargs=None,
    expected_output_shape=None,
    targets=None,
    loss="mse",
    mixed_precision="float32",
    cross_backend_fixture=None,
):
    """Runs the standard checks on a model, `task_cls(**init_kwargs)`.

    The checks of `run_layer_test` on one built model: the model that is
    called eagerly is the one trained and saved.

    Args:
        task_cls: the model class, or a function that makes one from
            keyword arguments.
        init_kwargs: dict. The constructor arguments.
        inputs: a NumPy structure (an array, or a dict such as
            `{"inputs": ..., "mask": ...}`), the batch of model inputs.
        tmp_path: a folder for the `.keras` file.
        config_kwargs: dict or None. Constructor arguments for the config
            round trip. Defaults to `init_kwargs`.
        expected_output_shape: a shape or structure of shapes, or None to
            skip the check.
        targets: the training targets. Defaults to random values shaped
            like the model's output.
        loss: the training loss. Defaults to "mse".
        mixed_precision: as for `run_layer_test`. Defaults to "float32"
            (a model's outputs stay float32).
        cross_backend_fixture: str or None. The name of the files in
            `tests/fixtures/cross_backend/` that hold this model saved
            under each backend; each other backend's file must load with
            this model's config and its recorded outputs. Defaults to None.

    Returns:
        The trained model and the model restored from its `.keras` file.
    """
    assert_config_round_trip(task_cls(**(config_kwargs or init_kwargs)))
    model, outputs = _check_calls(task_cls, init_kwargs, (inputs,), {},
                                  expected_output_shape)
    _check_mixed_precision(task_cls, init_kwargs, (inputs,), {}, model,
                           outputs, mixed_precision)
    _check_training_step(model, inputs, targets, loss)
    restored = _check_saving(model, inputs, tmp_path)
    if cross_backend_fixture:
        check_cross_backend_fixtures(cross_backend_fixture, model)
    return model, restored


def check_cross_backend_fixtures(name, model=None):
    """The files `name_<backend>.keras` of the other backends load here.

    Each gives the outputs recorded beside it (`name_<backend>.npz`) and,
    where `model` is given, has its config.
    """
    for backend in BACKENDS:
        if backend == keras.config.backend():
            continue
        recorded = np.load(CROSS_BACKEND_FIXTURES / f"{name}_{backend}.npz")
        loaded = keras.saving.load_model(
            CROSS_BACKEND_FIXTURES / f"{name}_{backend}.keras"
        )
        if model is not None:
            loaded.name = model.name  # (only the layer's counter differs)
            assert_same_config(loaded, model)
        np.testing.assert_allclose(
            to_numpy(loaded(recorded["inputs"])), recorded["outputs"],
            rtol=1e-5, atol=1e-5, err_msg=f"saved under {backend}",
        )


def assert_config_round_trip(layer):
    """config -> from_config -> the same config."""
    config = layer.get_config()
    restored = layer.__class__.from_config(config)
    assert restored.get_config() == config


def assert_keras_file_round_trip(model, inputs, tmp_path):
    """A `.keras` save and load gives the same predictions."""
    expected = keras.tree.flatten(model(inputs))
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    for output, expected_output in zip(keras.tree.flatten(restored(inputs)),
                                       expected):
        np.testing.assert_allclose(to_numpy(output),
                                   to_numpy(expected_output),
                                   rtol=1e-6, atol=1e-6)
    return restored


def assert_same_config(layer, other):
    """Equal configs once JSON-normalized (a saved file stores lists)."""

    def normalized(config):
        return json.dumps(config, sort_keys=True, default=str)

    assert normalized(layer.get_config()) == normalized(other.get_config())


def _check_calls(layer_cls, init_kwargs, call_args, call_kwargs,
                 expected_output_shape):
    """The eager, symbolic and masked calls; returns the eager layer and
    its outputs."""
    layer = layer_cls(**init_kwargs)
    outputs = layer(*call_args, **call_kwargs)
    shapes = _shapes(outputs)
    if expected_output_shape is not None:
        assert shapes == expected_output_shape, shapes
    assert all(dtype in ("float32", "bool") for dtype in _dtypes(outputs))
    computed = layer.compute_output_shape(*_shapes(call_args))
    assert _shape_list(computed) == _shape_list(shapes), (computed, shapes)
    if None not in keras.tree.flatten(outputs):
        # (An absent output, such as an adapter's mask, cannot be symbolic:
        # the model's symbolic call covers those layers.)
        _check_symbolic_call(layer_cls(**init_kwargs), call_args,
                             call_kwargs, outputs)
    _check_masked_values_ignored(layer, call_args, call_kwargs, outputs)
    return layer, outputs


def _shapes(structure):
    return keras.tree.map_structure(
        lambda tensor: None if tensor is None else tuple(tensor.shape),
        structure,
    )


def _dtypes(structure):
    return [
        keras.backend.standardize_dtype(tensor.dtype)
        for tensor in keras.tree.flatten(structure) if tensor is not None
    ]


def _shape_list(structure):
    """The shapes (tuples, None for an absent output) of a structure."""
    shapes = []
    keras.tree.map_shape_structure(
        lambda shape: shapes.append(None if shape is None else tuple(shape)),
        structure,
    )
    return shapes


def _symbolic(structure):
    """`keras.Input`s shaped (batch None) and typed like the arrays."""
    return keras.tree.map_structure(
        lambda array: keras.Input(np.shape(array)[1:],
                                  dtype=np.asarray(array).dtype.name),
        structure,
    )


def _arrays(call_kwargs):
    """The keyword call arguments that are arrays (such as a mask)."""
    return {name: value for name, value in call_kwargs.items()
            if isinstance(value, np.ndarray)}


def _symbolic_call(layer, call_args, call_kwargs):
    """Calls `layer` on `keras.Input`s for its arrays; returns the inputs
    (positional, then array keywords) and the outputs."""
    inputs = _symbolic(call_args)
    keyword_inputs = _symbolic(_arrays(call_kwargs))
    outputs = layer(*inputs, **{**call_kwargs, **keyword_inputs})
    return list(inputs) + list(keyword_inputs.values()), outputs


def _check_symbolic_call(layer, call_args, call_kwargs, eager_outputs):
    """A new layer called on `keras.Input`s: the eager shapes and dtypes."""
    _, symbolic_outputs = _symbolic_call(layer, call_args, call_kwargs)
    expected = [
        None if shape is None else (None,) + shape[1:]
        for shape in _shape_list(_shapes(eager_outputs))
    ]
    assert _shape_list(_shapes(symbolic_outputs)) == expected
    assert _dtypes(symbolic_outputs) == _dtypes(eager_outputs)


def _check_masked_values_ignored(layer, call_args, call_kwargs, outputs):
    """Other values where the mask is False give the same outputs (at the
    real elements only, for outputs with one entry per masked element)."""
    perturbed, masks = _perturb_masked_values(call_args,
                                              call_kwargs.get("mask"))
    if not masks:
        return
    again = layer(*perturbed, **call_kwargs)
    for output, expected in zip(keras.tree.flatten(again),
                                keras.tree.flatten(outputs)):
        if output is None:
            continue
        output, expected = to_numpy(output), to_numpy(expected)
        for mask in masks:
            if output.shape[:mask.ndim] == mask.shape:
                output, expected = output[mask], expected[mask]
                break
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)


def _perturb_masked_values(call_args, mask):
    """`call_args` with other values where a mask is False, and the masks
    that are not all True.

    A `mask` keyword masks the last positional argument; a dict input
    `{"inputs": ..., "mask": ...}` (at any depth) masks its inputs.
    """
    rng = np.random.default_rng(7)
    masks = []

    def perturb(data, mask):
        mask, data = np.asarray(mask, bool), np.asarray(data)
        if mask.all():
            return data
        masks.append(mask)
        if np.issubdtype(data.dtype, np.integer):  # token ids stay valid
            other = rng.integers(0, data.max() + 1, size=data.shape)
        else:
            other = 100.0 * rng.normal(size=data.shape)
        expanded = mask.reshape(mask.shape + (1,) * (data.ndim - mask.ndim))
        return np.where(expanded, data, other.astype(data.dtype))

    def walk(structure):
        if isinstance(structure, dict):
            if set(structure) == {"inputs", "mask"}:
                return {"inputs": perturb(structure["inputs"],
                                          structure["mask"]),
                        "mask": structure["mask"]}
            return {key: walk(value) for key, value in structure.items()}
        return structure

    args = list(call_args)
    if mask is not None:
        args[-1] = perturb(args[-1], mask)
    return [walk(arg) for arg in args], masks


def _check_symbolic_model_call(new_model, inputs, model):
    """The model called on `keras.Input`s gives the eager output shape."""
    eager_shape = tuple(model(inputs).shape)
    symbolic_outputs = new_model(_symbolic(inputs))
    assert tuple(symbolic_outputs.shape) == (None,) + eager_shape[1:]


def _functional_model(call_args, call_kwargs):
    def make_model(layer):
        inputs, outputs = _symbolic_call(layer, call_args, call_kwargs)
        return keras.Model(inputs[0] if len(inputs) == 1 else inputs,
                           outputs)

    return make_model


def _check_saving(model, inputs, tmp_path):
    """The `.keras` round trip; returns the model restored from the file."""
    restored = assert_keras_file_round_trip(model, inputs, tmp_path)
    assert_same_config(restored, model)
    return restored


def _check_training_step(model, inputs, targets, loss):
    """Two epochs give finite losses and change the trainable weights."""
    output = keras.tree.map_structure(to_numpy, model(inputs))
    if targets is None:
        targets = keras.tree.map_structure(
            lambda array: np.random.default_rng(0).normal(size=array.shape),
            output,
        )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss,
                  run_eagerly=TRAIN_EAGERLY)
    before = [to_numpy(weight) for weight in model.trainable_weights]
    history = model.fit(inputs, targets, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    after = [to_numpy(weight) for weight in model.trainable_weights]
    assert any(not np.array_equal(b, a) for b, a in zip(before, after))


def _check_mixed_precision(layer_cls, init_kwargs, call_args, call_kwargs,
                           float32_layer, float32_outputs, mode):
    """float32 variables and finite outputs under `mixed_bfloat16`."""
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        layer = layer_cls(**init_kwargs)
        layer(*call_args, **call_kwargs)
        layer.set_weights(float32_layer.get_weights())
        outputs = layer(*call_args, **call_kwargs)
    finally:
        keras.config.set_dtype_policy("float32")
    assert all(
        keras.backend.standardize_dtype(weight.dtype) == "float32"
        for weight in layer.weights
    )
    pairs = zip(keras.tree.flatten(outputs),
                keras.tree.flatten(float32_outputs))
    for output, float32_output in pairs:
        if output is None:
            continue
        dtype = keras.backend.standardize_dtype(output.dtype)
        if keras.backend.standardize_dtype(float32_output.dtype) == "bool":
            assert dtype == "bool"
            np.testing.assert_array_equal(to_numpy(output),
                                          to_numpy(float32_output))
            continue
        assert dtype == ("float32" if mode == "float32" else "bfloat16")
        assert np.isfinite(as_float32(output)).all()
        if mode == "rounded":
            rounded = as_float32(keras.ops.cast(float32_output, "bfloat16"))
            np.testing.assert_array_equal(as_float32(output), rounded)
