"""One harness for the checks every layer, adapter and model test makes.

`run_layer_test` is keras-hub's `run_layer_test` for this package: the
config round trip, an eager call (shapes, dtypes, `compute_output_shape`),
a symbolic call, a training step, the `.keras` round trip, mixed precision
and, on request, the `.keras` file under the other installed backends.
Test files call it once per layer configuration and keep only their own
behavioural tests.
"""

import pickle

import keras
import numpy as np

from support import (
    TINY_PERCEIVER,
    adapter_perceiver,
    as_float32,
    assert_config_round_trip,
    assert_keras_file_round_trip,
    assert_same_config,
    other_backends,
    run_under_backend,
    to_numpy,
)


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
    check_other_backends=False,
):
    """Runs the standard checks on `layer_cls(**init_kwargs)`.

    Args:
        layer_cls: the layer (or model) class, or a function that makes
            one from keyword arguments.
        init_kwargs: dict. The constructor arguments of the layer that is
            called, trained and saved.
        call_args: tuple of NumPy structures (arrays, dicts of arrays), the
            positional call arguments; the first axis is the batch.
        tmp_path: a folder for the `.keras` files.
        call_kwargs: dict or None. Keyword call arguments.
        config_kwargs: dict or None. Constructor arguments for the config
            round trip, to cover options that `call_args` do not fit.
            Defaults to `init_kwargs`.
        expected_output_shape: a shape or structure of shapes (None for an
            absent output) of the eager call, or None to skip the check.
        make_model: callable or None. Wraps a new layer in the model that
            is trained and saved. Defaults to a functional model of the
            layer on `keras.Input`s shaped like `call_args`.
        targets: the training targets. Defaults to random values shaped
            like the model's output.
        loss: the training loss. Defaults to "mse".
        mixed_precision: what the floating outputs are under
            `mixed_bfloat16`: "rounded" (the float32 outputs rounded to
            bfloat16: the layer computes in float32 and casts at the end),
            "finite" (bfloat16 and finite) or "float32" (finite float32, as
            a model's logits). Defaults to "rounded".
        check_other_backends: bool. Whether a `.keras` file saved here
            gives the same outputs when loaded under every other installed
            backend (a new process each). Defaults to False.

    Returns:
        The trained model and the model restored from its `.keras` file,
        for further checks.
    """
    call_kwargs = call_kwargs or {}
    assert_config_round_trip(layer_cls(**(config_kwargs or init_kwargs)))
    float32_layer, outputs = _check_eager_call(
        layer_cls(**init_kwargs), call_args, call_kwargs,
        expected_output_shape,
    )
    if None not in keras.tree.flatten(outputs):
        # (An absent output, such as an adapter's mask, cannot be symbolic:
        # the model's symbolic call below covers those layers.)
        _check_symbolic_call(layer_cls(**init_kwargs), call_args,
                             call_kwargs, outputs)
    make_model = make_model or _functional_model(call_args, call_kwargs)
    model = make_model(layer_cls(**init_kwargs))
    model_inputs = call_args[0] if len(call_args) == 1 else list(call_args)
    _check_symbolic_model_call(make_model(layer_cls(**init_kwargs)),
                               model_inputs, model)
    _check_training_step(model, model_inputs, targets, loss)
    restored = assert_keras_file_round_trip(model, model_inputs, tmp_path)
    assert_same_config(restored, model)
    if check_other_backends:
        _check_other_backends(model, model_inputs, tmp_path)
    _check_mixed_precision(layer_cls, init_kwargs, call_args, call_kwargs,
                           float32_layer, outputs, mixed_precision)
    return model, restored


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


def _check_eager_call(layer, call_args, call_kwargs, expected_output_shape):
    """Shapes, float32 outputs and `compute_output_shape` of a call."""
    outputs = layer(*call_args, **call_kwargs)
    shapes = _shapes(outputs)
    if expected_output_shape is not None:
        assert shapes == expected_output_shape, shapes
    assert all(dtype in ("float32", "bool") for dtype in _dtypes(outputs))
    computed = layer.compute_output_shape(*_shapes(call_args))
    assert _shape_list(computed) == _shape_list(shapes), (computed, shapes)
    return layer, outputs


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


def _check_symbolic_call(layer, call_args, call_kwargs, eager_outputs):
    symbolic_outputs = layer(*_symbolic(call_args), **call_kwargs)
    expected = [
        None if shape is None else (None,) + shape[1:]
        for shape in _shape_list(_shapes(eager_outputs))
    ]
    assert _shape_list(_shapes(symbolic_outputs)) == expected


def _check_symbolic_model_call(new_model, inputs, model):
    """The model called on `keras.Input`s gives the eager output shape."""
    eager_shape = tuple(model(inputs).shape)
    symbolic_outputs = new_model(_symbolic(inputs))
    assert tuple(symbolic_outputs.shape) == (None,) + eager_shape[1:]


def _functional_model(call_args, call_kwargs):
    def make_model(layer):
        inputs = _symbolic(call_args)
        model_inputs = inputs[0] if len(inputs) == 1 else list(inputs)
        return keras.Model(model_inputs, layer(*inputs, **call_kwargs))

    return make_model


def _check_training_step(model, inputs, targets, loss):
    """Two epochs give finite losses and change the trainable weights."""
    output = to_numpy(model(inputs))  # builds the model
    if targets is None:
        targets = np.random.default_rng(0).normal(size=output.shape)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    before = [to_numpy(weight) for weight in model.trainable_weights]
    history = model.fit(inputs, targets, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    after = [to_numpy(weight) for weight in model.trainable_weights]
    assert any(not np.array_equal(b, a) for b, a in zip(before, after))


def _check_mixed_precision(layer_cls, init_kwargs, call_args, call_kwargs,
                           float32_layer, float32_outputs, mode):
    """bfloat16 outputs (float32 variables) under `mixed_bfloat16`."""
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


# Run by `_check_other_backends` after `FOLDER = <path>`.
LOAD_SCRIPT = """
import pickle
import keras
import numpy as np
import keras_perceiver  # noqa: F401  (registers the saved classes)

with open(FOLDER + "/inputs.pkl", "rb") as file:
    inputs, expected = pickle.load(file)
model = keras.saving.load_model(FOLDER + "/portable.keras")
outputs = keras.ops.convert_to_numpy(model(inputs))
np.testing.assert_allclose(outputs, expected, atol=1e-5)
print(keras.config.backend())
"""


def _check_other_backends(model, inputs, tmp_path):
    model.save(tmp_path / "portable.keras")
    with open(tmp_path / "inputs.pkl", "wb") as file:
        pickle.dump((inputs, to_numpy(model(inputs))), file)
    for backend in other_backends():
        stdout = run_under_backend(
            backend, f"FOLDER = {str(tmp_path)!r}\n" + LOAD_SCRIPT
        )
        assert stdout.strip().splitlines()[-1] == backend


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
