"""The base of the adapters for data on a regular grid, and patch extraction."""

import math

from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.input_adapter import InputAdapter
from keras_perceiver.adapters.input_adapter import as_bool_mask
from keras_perceiver.adapters.input_adapter import check_known_sizes
from keras_perceiver.adapters.input_adapter import check_mask_shape
from keras_perceiver.adapters.input_adapter import split_masked_inputs
from keras_perceiver.layers.fourier_position_encoding import (
    attach_position_encoding,
)


class GridAdapter(InputAdapter):
    """Base class for data on a regular N-d grid: images, audio, video.

    The data `(batch, *index_shape, channels)` is cut into non-overlapping
    patches of `patch_size` (space-to-depth: each patch's values, flattened
    in `(*patch, channels)` order, become one element's channels), and each
    element gets the Fourier features of its patch's position on a
    `linspace(-1, 1)` grid of patches, so the byte array is
    `(batch, prod(index_shape / patch_size), prod(patch_size) * channels +
    d * (2 * num_bands + 1))`.

    Subclasses set the class attributes `axis_names` (one name per index
    axis, which fixes d) and `input_name` (for error messages), and those
    of `channels_optional` (whether the channel axis may be left out,
    meaning one channel; False here), `maskable` (True here) and
    `default_patch_size` (1 here) that differ from these defaults; they
    inherit the constructor below.

    A maskable grid may be padded along its first axis (time) and masked
    there, with a mask `(batch, length of the first axis)`; a patch is real
    if any of its steps is, and padded steps inside it count as zeros. It
    may also be called with a shorter first axis than it was built with:
    positions along that axis come from the built (maximum) length, so an
    element keeps its position features whatever the padding, and a
    padded-and-masked input gives the same result as the unpadded one.

    Args:
        patch_size: int, sequence of d ints, or None. Patch size along each
            index axis; it must divide the axis. Defaults to None, meaning
            the class attribute `default_patch_size` (1 here: no patching).
        num_bands: int. Fourier bands per axis. Defaults to 64.
        max_resolution: int, sequence of d ints, or None. Maximum resolution
            mu of each axis of the patch grid. Defaults to None, meaning the
            number of patches along each axis.
        concat_pos: bool. Whether the raw position joins the features.
            Defaults to True.
        sine_only: bool. Whether to use sines only. Defaults to False.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: the grid `(batch, *index_shape[, channels])`, or the dict
            `{"inputs": grid, "mask": mask}`.
        mask: Optional boolean tensor `(batch, length of the first axis)`,
            for maskable grids only.
        training: Python bool, for subclasses with random augmentation.

    Returns:
        A tuple `(byte_array, mask)`; the mask is None when none was given.

    Example:

    >>> class VolumeAdapter(GridAdapter):  # e.g. 3-D medical scans
    ...     axis_names = ("depth", "height", "width")
    ...     input_name = "volumes"
    ...     maskable = False
    ...     default_patch_size = 4
    >>> byte_array, _ = VolumeAdapter(num_bands=8)(
    ...     keras.random.normal((1, 16, 32, 32, 1)))
    >>> tuple(byte_array.shape)
    (1, 256, 115)
    """

    axis_names = ()
    input_name = "inputs"
    channels_optional = False
    maskable = True
    default_patch_size = 1

    def __init__(
        self,
        patch_size=None,
        num_bands=64,
        max_resolution=None,
        concat_pos=True,
        sine_only=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if patch_size is None:
            patch_size = self.default_patch_size
        self.patch_size = argument_checks.freeze_resolution(patch_size)
        attach_position_encoding(
            self, num_bands, max_resolution, concat_pos, sine_only
        )
        self.grid_shape = None  # Both set by `build`.
        self.patch_grid = None
        self.patch_shape = argument_checks.resolve_int_per_dimension(
            "patch_size", self.patch_size, len(self.axis_names)
        )
        if self.max_resolution is not None:
            argument_checks.resolve_per_dimension(
                "max_resolution", self.max_resolution, len(self.axis_names)
            )

    @property
    def num_index_dims(self):
        return len(self.axis_names)

    @property
    def input_grid_shape(self):
        """The grid's sizes along `axis_names`, as built (None before)."""
        return self.grid_shape

    @property
    def element_grid(self):
        """The grid of patches, one element each (None before building)."""
        return self.patch_grid

    @property
    def num_position_channels(self):
        """How many trailing byte-array channels are position features."""
        return self.position_encoding.num_channels(self.num_index_dims)

    def _accepted_ranks(self):
        full = self.num_index_dims + 2
        return (full - 1, full) if self.channels_optional else (full,)

    def _split_shapes(self, inputs_shape):
        """The data's shape, of an accepted rank, and the mask's (or None)."""
        data_shape, mask_shape = split_masked_inputs(
            inputs_shape, None, self.input_name
        )
        data_shape = tuple(data_shape)
        argument_checks.check_rank(
            self.input_name, data_shape, self._accepted_ranks()
        )
        return data_shape, mask_shape

    def build(self, inputs_shape):
        data_shape, mask_shape = self._split_shapes(inputs_shape)
        check_known_sizes(
            data_shape, self.input_name, self._axes_description()
        )
        self.has_channel_axis = len(data_shape) == self.num_index_dims + 2
        self.grid_shape = data_shape[1:self.num_index_dims + 1]
        self.num_input_channels = (
            data_shape[-1] if self.has_channel_axis else 1
        )
        index_shape = self._index_shape(self.grid_shape)
        self._check_patch_size(index_shape, data_shape)
        self.patch_grid = tuple(
            size // patch for size, patch in zip(index_shape, self.patch_shape)
        )
        if mask_shape is not None:
            self._check_mask(mask_shape, data_shape)

    def _index_shape(self, grid_shape):
        """The grid that is patched (ImageAdapter crops it first)."""
        return grid_shape

    def _transform(self, data, training):
        """Hook applied to the grid before patching (ImageAdapter crops)."""
        return data

    def _axes_description(self):
        axes = list(self.axis_names)
        if self.channels_optional:
            return ", ".join(axes) + " (and channels, if given)"
        return ", ".join(axes + ["channels"])

    def _check_patch_size(self, index_shape, data_shape):
        for axis, size, patch in zip(
            self.axis_names, index_shape, self.patch_shape
        ):
            if size % patch:
                raise ValueError(
                    f"`patch_size` must divide every axis of `"
                    f"{self.input_name}`: the {axis} axis has {size} entries, "
                    f"not a multiple of {patch}. Received: "
                    f"patch_size={self.patch_size}, "
                    f"{self.input_name}.shape={tuple(data_shape)}"
                )

    def _check_mask(self, mask_shape, data_shape):
        if not self.maskable:
            raise ValueError(
                f"`{self.input_name}` take no mask: every entry is an input "
                f"element. Received: mask with shape {tuple(mask_shape)}"
            )
        check_mask_shape(
            mask_shape, data_shape, self.input_name, self.axis_names[0]
        )

    def _check_call_shape(self, data_shape):
        built = (self.grid_shape + (self.num_input_channels,)
                 if self.has_channel_axis else self.grid_shape)
        received = tuple(data_shape[1:])
        first_ok = received[:1] == built[:1] or (
            self.maskable
            and received[0] is not None
            and received[0] <= built[0]
        )
        if len(received) != len(built) or not (
            first_ok and received[1:] == built[1:]
        ):
            shorter = (
                f" (a shorter {self.axis_names[0]} axis is accepted)"
                if self.maskable else ""
            )
            raise ValueError(
                f"`{self.input_name}` must have the shape the adapter was "
                f"built with, {(None,) + built}{shorter}. "
                f"Received: {self.input_name}.shape={tuple(data_shape)}"
            )
        if self.maskable and received[0] % self.patch_shape[0]:
            self._check_patch_size(
                (received[0],) + tuple(self.grid_shape[1:]), data_shape
            )

    def call(self, inputs, mask=None, training=None):
        data, mask = split_masked_inputs(inputs, mask, self.input_name)
        self._check_call_shape(data.shape)
        if mask is not None:
            self._check_mask(mask.shape, data.shape)
        if not self.has_channel_axis:
            data = data[..., None]
        data = ops.cast(data, self.compute_dtype)
        if mask is not None:
            mask = as_bool_mask(mask)
            # Padding inside a real patch counts as zeros.
            expanded = ops.reshape(
                mask, tuple(ops.shape(mask)) + (1,) * (len(data.shape) - 2)
            )
            data = ops.where(expanded, data, ops.zeros_like(data))
        data = self._transform(data, training)
        patches = extract_patches(data, self.patch_shape)
        num_elements = patches.shape[1]
        positions = self.position_encoding.grid_features(self.patch_grid)
        positions = positions[:num_elements]
        positions = ops.broadcast_to(
            positions[None],
            (ops.shape(patches)[0],) + tuple(positions.shape),
        )
        byte_array = ops.concatenate([patches, positions], axis=-1)
        if mask is not None:
            mask = patch_mask(
                mask, self.patch_shape[0], math.prod(self.patch_grid[1:])
            )
        return byte_array, mask

    def num_output_channels(self, num_input_channels):
        """Channels of each byte-array element (data, then positions)."""
        return (
            math.prod(self.patch_shape) * num_input_channels
            + self.position_encoding.num_channels(self.num_index_dims)
        )

    def compute_output_shape(self, inputs_shape):
        data_shape, mask_shape = self._split_shapes(inputs_shape)
        has_channel_axis = len(data_shape) == self.num_index_dims + 2
        channels = data_shape[-1] if has_channel_axis else 1
        index_shape = self._index_shape(
            data_shape[1:self.num_index_dims + 1]
        )
        counts = [
            None if size is None else size // patch
            for size, patch in zip(index_shape, self.patch_shape)
        ]
        num_elements = None if None in counts else math.prod(counts)
        output_channels = (
            None if channels is None else self.num_output_channels(channels)
        )
        batch = data_shape[0]
        byte_array_shape = (batch, num_elements, output_channels)
        return byte_array_shape, (
            None if mask_shape is None else (batch, num_elements)
        )

    def get_config(self):
        config = super().get_config()
        config["patch_size"] = self.patch_size
        config.update(self.position_encoding.settings())
        return config


def extract_patches(data, patch_shape):
    """Cuts a grid into non-overlapping patches (space-to-depth).

    Args:
        data: Tensor of shape `(batch, *index_shape, channels)` with a known
            `index_shape`, each axis a multiple of its patch size.
        patch_shape: tuple of ints, the patch size along each index axis.

    Returns:
        A tensor `(batch, num_patches, prod(patch_shape) * channels)`. Patches
        are in row-major order of the patch grid; each patch's values are
        flattened in `(*patch_shape, channels)` order.
    """
    index_shape = tuple(data.shape[1:-1])
    channels = data.shape[-1]
    grid = tuple(size // patch for size, patch in zip(index_shape, patch_shape))
    # The batch size is given, not inferred (-1): a grid larger than the
    # shape traced with (a SavedModel's input) fails rather than being read
    # as more examples.
    batch = ops.shape(data)[0]
    if all(patch == 1 for patch in patch_shape):
        return ops.reshape(data, (batch, math.prod(grid), channels))
    split = []
    for size, patch in zip(grid, patch_shape):
        split += [size, patch]
    data = ops.reshape(data, (batch, *split, channels))
    num_dims = len(patch_shape)
    order = (
        [0]
        + [1 + 2 * axis for axis in range(num_dims)]
        + [2 + 2 * axis for axis in range(num_dims)]
        + [2 * num_dims + 1]
    )
    data = ops.transpose(data, order)
    return ops.reshape(
        data, (batch, math.prod(grid), math.prod(patch_shape) * channels)
    )


def patch_mask(mask, first_patch, elements_per_step):
    """A mask over the first grid axis, turned into one over the patches.

    A patch is real if any of its entries along the first axis is real.

    Args:
        mask: boolean tensor `(batch, length)`, length a multiple of
            `first_patch`.
        first_patch: int. Patch size along the first axis.
        elements_per_step: int. Patches per step of the first axis (the
            product of the patch grid's other axes).

    Returns:
        A boolean tensor `(batch, length // first_patch * elements_per_step)`.
    """
    batch = ops.shape(mask)[0]
    steps = mask.shape[1] // first_patch
    if first_patch > 1:
        mask = ops.any(ops.reshape(mask, (batch, steps, first_patch)), axis=-1)
    if elements_per_step > 1:
        # Not `ops.repeat`, which fails on PyTorch's meta device (Keras'
        # shape inference).
        mask = ops.tile(mask[:, :, None], (1, 1, elements_per_step))
        mask = ops.reshape(mask, (batch, steps * elements_per_step))
    return mask
