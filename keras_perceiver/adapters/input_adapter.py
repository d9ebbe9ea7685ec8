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

    What export, plotting and fine-tuning need to know of an adapter, they
    ask through the attributes and methods below, whose defaults suit an
    adapter of one tensor off any grid; adapters that differ override them.

    Attributes:
        input_name: str. The name of the input: serving signatures name a
            tensor input after it, and error messages use it. "inputs"
            here.
        serving_dtype: str. The dtype serving signatures give the data
            (masks are bool). "float32" here.

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

    input_name = INPUTS_KEY
    serving_dtype = "float32"

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

    @property
    def input_grid_shape(self):
        """The sizes of the input's grid axes, as the adapter was built.

        For images `(height, width)`, for waveforms `(length,)`: the axes
        between the batch and the channels. None for inputs that are not a
        fixed grid (point clouds, token ids), and before the adapter is
        built.

        Example:

        >>> adapter = keras_perceiver.adapters.ImageAdapter(num_bands=4)
        >>> adapter.build((None, 28, 32, 1))
        >>> adapter.input_grid_shape
        (28, 32)
        """
        return None

    @property
    def element_grid(self):
        """The grid the byte array's elements lie on, or None.

        The byte array holds the elements in row-major order of this grid
        (pixels, patches, feature-map positions), so an attention map over
        the elements reshapes to it. None where the elements lie on no
        grid (points, tokens, several modalities) and before the adapter is
        built.

        Example:

        >>> adapter = keras_perceiver.adapters.ImageAdapter(
        ...     num_bands=4, patch_size=4)
        >>> byte_array, _ = adapter(keras.random.uniform((1, 28, 32, 1)))
        >>> adapter.element_grid, byte_array.shape[1]
        ((7, 8), 56)
        """
        return None

    @property
    def inference_crop_shape(self):
        """The size of the central crop taken outside training, or None.

        Example:

        >>> adapter = keras_perceiver.adapters.ImageAdapter(crop_size=24)
        >>> adapter.inference_crop_shape
        (24, 24)
        """
        return None

    @property
    def output_shape(self):
        """The byte array's shape `(batch, M, C)`, once the adapter is built.

        `model.summary()` shows it. (Without it, the summary would format
        the whole output structure `(byte array, mask)`, whose mask shape
        is None without a mask: Keras' torch and JAX structure utilities
        fail on it.)

        Example:

        >>> adapter = keras_perceiver.adapters.ImageAdapter(num_bands=4)
        >>> adapter.build((None, 28, 32, 1))
        >>> adapter.output_shape
        (None, 896, 19)
        """
        if not self._build_shapes_dict:
            raise AttributeError(
                "`output_shape` is known once the adapter is built"
            )
        byte_array_shape, _ = self.compute_output_shape(
            **self._build_shapes_dict
        )
        return tuple(byte_array_shape)

    def serving_input_specs(self, input_shape):
        """The inputs of a serving signature for inputs of `input_shape`.

        The shapes are `input_shape` with a dynamic batch dimension. A
        tensor input is named `input_name`, with dtype `serving_dtype`;
        a dict input gives a dict of specs named after its keys (nested
        keys joined by `_`), masks (keys `mask` or ending in `_mask`)
        bool.

        Args:
            input_shape: tuple, or (nested) dict of tuples: the shape the
                adapter was built with, batch first.

        Returns:
            A `keras.InputSpec`, or a (nested) dict of them.

        Example:

        >>> adapter = keras_perceiver.adapters.AudioAdapter()
        >>> specs = adapter.serving_input_specs(
        ...     {"inputs": (8, 1024), "mask": (8, 1024)})
        >>> specs["inputs"].shape, specs["mask"].dtype
        ((None, 1024), 'bool')
        >>> adapter.serving_input_specs((8, 1024)).name
        'waveforms'
        """
        return serving_input_specs(
            input_shape, self.input_name, self.serving_dtype
        )

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


def serving_input_specs(input_shape, name=INPUTS_KEY, dtype="float32"):
    """Serving-signature inputs for inputs of `input_shape`.

    What `InputAdapter.serving_input_specs` returns, for any layer: a
    tensor input is named `name`; a dict input gives a dict of specs named
    after its keys (nested keys joined by `_`). Masks (keys `mask` or
    ending in `_mask`) are bool, the rest `dtype`; the batch dimension is
    dynamic.

    Args:
        input_shape: tuple, or (nested) dict of tuples, batch first.
        name: str. The name of a tensor input. Defaults to "inputs".
        dtype: str. The dtype of the data. Defaults to "float32".

    Returns:
        A `keras.InputSpec`, or a (nested) dict of them.

    Example:

    >>> specs = serving_input_specs({"inputs": (2, 10, 3), "mask": (2, 10)})
    >>> mask = specs["mask"]
    >>> mask.name, mask.shape, mask.dtype
    ('mask', (None, 10), 'bool')
    """
    if isinstance(input_shape, dict):
        return _dict_specs(input_shape, (), dtype)
    return _input_spec(input_shape, (name,), dtype)


def _dict_specs(input_shape, names, dtype):
    return {
        key: (
            _dict_specs(shape, names + (str(key),), dtype)
            if isinstance(shape, dict)
            else _input_spec(shape, names + (str(key),), dtype)
        )
        for key, shape in input_shape.items()
    }


def _input_spec(input_shape, names, dtype):
    name = "_".join(names)
    if not _is_shape(input_shape):
        raise ValueError(
            "An input shape must be a tuple of ints (or None), or a dict of "
            f"them. Received: input_shape={input_shape!r} for {name!r}"
        )
    is_mask = names[-1] == MASK_KEY or names[-1].endswith("_" + MASK_KEY)
    return keras.InputSpec(
        shape=(None,) + tuple(input_shape)[1:],
        dtype="bool" if is_mask else dtype,
        name=name,
    )


def _is_shape(value):
    return (
        isinstance(value, (tuple, list))
        and len(value) > 0
        and all(d is None or isinstance(d, int) for d in value)
    )


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


def check_known_sizes(data_shape, name, axes):
    """Raises unless every size of `data_shape` after the batch is known.

    An adapter's weights and element grid follow these sizes, so they must
    be known when it is built.

    Args:
        data_shape: the data's shape, batch first.
        name: str. The data's name, for error messages.
        axes: str. The axes after the batch, e.g. `"height, width and
            channels"`.
    """
    data_shape = tuple(data_shape)
    if any(size is None for size in data_shape[1:]):
        raise ValueError(
            f"`{name}` must have known sizes along {axes} when the adapter "
            f"is built. Received: {name}.shape={data_shape}"
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
