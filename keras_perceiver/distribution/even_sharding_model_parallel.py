"""`EvenShardingModelParallel`: ModelParallel that never splits unevenly."""

import math

import keras


class EvenShardingModelParallel(keras.distribution.ModelParallel):
    """`keras.distribution.ModelParallel` that replicates uneven variables.

    JAX can only split an array dimension into equal parts. Where the layout
    map asks to split a dimension that is not a multiple of the mesh axes it
    is split over (the Perceiver's cross-attention widths default to the
    input's channel count, often odd), the variable is replicated instead of
    failing. Every other variable gets the layout map's layout, as with
    `ModelParallel`.

    Args:
        layout_map: `keras.distribution.LayoutMap`, e.g. from
            `perceiver_layout_map`.
        batch_dim_name: str or None. The mesh axis that splits the batch.
            Defaults to None, meaning the mesh's first axis.
        **kwargs: Further `ModelParallel` arguments, such as
            `auto_shard_dataset`.

    Example:

    ```python
    mesh = keras.distribution.DeviceMesh(
        (1, 4), ("batch", "model"), keras.distribution.list_devices())
    keras.distribution.set_distribution(EvenShardingModelParallel(
        layout_map=perceiver_layout_map(mesh), batch_dim_name="batch"))
    ```
    """

    def get_variable_layout(self, variable):
        layout = super().get_variable_layout(variable)
        sizes = dict(zip(self.device_mesh.axis_names, self.device_mesh.shape))
        for dimension, axes in zip(variable.shape, layout.axes):
            if axes is None:
                continue
            names = (axes,) if isinstance(axes, str) else tuple(axes)
            if dimension % math.prod(sizes[name] for name in names):
                return keras.distribution.TensorLayout(
                    [None] * len(variable.shape), self.device_mesh
                )
        return layout
