"""The input-adapter protocol and the helpers every adapter shares.

An input adapter is a Keras layer whose call returns `(byte_array, mask)`:
the byte array `(batch, M, C)` carries each element's data and position
features, the mask `(batch, M)` (True = real element) is None where nothing
is padded. `keras_perceiver.Perceiver` hands its inputs to the adapter and
the mask to the cross-attends.

Padded inputs come with a mask in one of two ways, as for the Perceiver's
byte arrays: a dict `{"inputs": padded, "mask": mask}` (the form to use with
`model.fit`, since Keras passes dicts through its data pipeline), or the
`mask=` call argument. A mask that Keras attaches to a tensor (after
`keras.layers.Masking`, for instance) arrives as the `mask=` argument too.
"""

import keras
from keras import ops

INPUTS_KEY = "inputs"
MASK_KEY = "mask"


class InputAdapter(keras.layers.Layer):
    """Base class of the input adapters: raw data to `(byte_array, mask)`.

    Subclasses implement `build(inputs_shape)`, `call(inputs, mask=None,
    training=None)` returning `(byte_array, mask_or_None)` and
    `compute_output_shape(inputs_shape)` returning
    `(byte_array_shape, mask_shape_or_None)`. This class turns the latter into
    the symbolic output (a boolean mask, or None) and consumes Keras masks:
    the mask is returned explicitly, not attached to the byte array.

    Args:
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: the modality's raw data, or `{"inputs": data, "mask": mask}`.
        mask: Optional mask over the data's first axis.
        training: Python bool, for adapters with random augmentation.

    Returns:
        A tuple `(byte_array, mask_or_None)`.

    Example:

    >>> class FeatureAdapter(InputAdapter):  # features carry positions
    ...     def build(self, inputs_shape):
    ...         pass
    ...     def call(self, inputs, mask=None, training=None):
    ...         data, mask = split_masked_inputs(inputs, mask)
    ...         return ops.cast(data, self.compute_dtype), mask
    ...     def compute_output_shape(self, inputs_shape):
    ...         data_shape, mask_shape = split_masked_inputs(inputs_shape)
    ...         return tuple(data_shape), mask_shape
    >>> byte_array, mask = FeatureAdapter()(keras.random.normal((2, 5, 3)))
    >>> tuple(byte_array.shape), mask
    ((2, 5, 3), None)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Keras masks are accepted (and returned as the second output), so
        # no warning about destroying them is due.
        self.supports_masking = True

    @property
    def input_dtype(self):
        """Inputs keep full precision (float32 under mixed precision).

        Keras would cast float inputs to the compute dtype before `call`;
        adapters cast the data themselves and compute positions (point
        coordinates included) in float32 first.
        """
        return self.dtype_policy.variable_dtype

    def compute_mask(self, *args, **kwargs):
        """The mask is returned as an output, never attached to one."""
        return None

    def compute_output_spec(self, inputs, mask=None, training=None):
        inputs_shape = keras.tree.map_structure(
            lambda tensor: tuple(tensor.shape), inputs
        )
        byte_array_shape, mask_shape = self.compute_output_shape(inputs_shape)
        if mask_shape is None and _resolve_mask_argument(mask) is not None:
            mask_shape = tuple(byte_array_shape[:2])
        if mask_shape is None:
            raise ValueError(
                f"Called on symbolic inputs without a mask, {self.name} would "
                "return None as its mask, which a functional model cannot "
                "hold. Call the Perceiver on the symbolic inputs instead (it "
                "consumes the adapter's outputs), or give a mask. "
                f"Received: inputs of shape {inputs_shape} and no mask"
            )
        byte_array = keras.KerasTensor(
            byte_array_shape, dtype=self.compute_dtype
        )
        return byte_array, keras.KerasTensor(mask_shape, dtype="bool")


def split_masked_inputs(inputs, mask=None, name=INPUTS_KEY):
    """Returns `(data, mask)` from data or `{"inputs": data, "mask": mask}`.

    Works on tensors and on shapes alike (a dict of shapes gives the data
    shape and the mask shape).

    Args:
        inputs: the data, or a dict with the data under `"inputs"` and
            optionally a mask under `"mask"`.
        mask: the `mask=` call argument: None, a mask, or the dict of masks
            that Keras builds for a dict input (its `"inputs"` entry is used).
        name: str. The input's name, for error messages.

    Returns:
        A tuple `(data, mask_or_None)`.
    """
    mask = _resolve_mask_argument(mask)
    if not isinstance(inputs, dict):
        return inputs, mask
    unknown = sorted(set(inputs) - {INPUTS_KEY, MASK_KEY})
    if INPUTS_KEY not in inputs or unknown:
        raise ValueError(
            f"A dict of `{name}` must hold the data under 'inputs' and "
            "optionally a mask under 'mask'. "
            f"Received keys: {sorted(inputs)}"
        )
    dict_mask = inputs.get(MASK_KEY)
    if dict_mask is not None and mask is not None:
        raise ValueError(
            f"Give the mask of `{name}` once: under 'mask' in the dict or as "
            "the `mask=` argument, not both. Received: both"
        )
    return inputs[INPUTS_KEY], mask if dict_mask is None else dict_mask


def check_mask_shape(mask_shape, data_shape, name, axis_name):
    """Raises unless a mask has shape `(batch, data_shape[1])`.

    Args:
        mask_shape: the mask's shape.
        data_shape: the data's shape, batch first.
        name: str. The data's name, for error messages.
        axis_name: str. What the mask covers, e.g. `"time steps"`.
    """
    expected = (data_shape[0], data_shape[1])
    mask_shape = tuple(mask_shape)
    matches = len(mask_shape) == 2 and all(
        a is None or b is None or a == b
        for a, b in zip(mask_shape, expected)
    )
    if not matches:
        raise ValueError(
            f"`mask` must have shape (batch, {axis_name}) = {expected}, one "
            f"entry per element of `{name}` along its first axis. "
            f"Received: mask.shape={mask_shape} for "
            f"{name}.shape={tuple(data_shape)}"
        )


def as_bool_mask(mask):
    """Casts a mask to bool (masks may come as 0/1 numbers)."""
    return ops.cast(mask, "bool")


def _resolve_mask_argument(mask):
    # Keras fills `mask=` with a structure mirroring a dict input (the
    # masks Keras attached to each entry, usually all None).
    if isinstance(mask, dict):
        mask = mask.get(INPUTS_KEY)
    if isinstance(mask, (list, tuple)) and all(m is None for m in mask):
        return None
    return mask
