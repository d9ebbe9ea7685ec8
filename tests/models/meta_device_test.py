"""Every model traces on PyTorch's meta device, as Keras' trainer needs.

Before the first training step, Keras' PyTorch trainer infers the model's
output shapes by calling it on meta tensors (shapes only, no arithmetic).
Where that call fails, Keras silently calls the model again on real
tensors of ones with the inputs' full shape: a whole forward pass and a
second copy of the batch before training starts, which at a million inputs
per example is one more byte array of memory (benchmarks/README.md,
finding 8). Each model of `export_test.CASES` (every adapter, Perceiver IO,
masks, mixed precision) and a Perceiver whose cross-attention runs in
chunks are called here on meta tensors, and their output shapes must be
those of a real call.
"""

import keras
import numpy as np
import pytest

from model_cases import CASES
from support import tiny_perceiver

pytestmark = pytest.mark.skipif(
    keras.config.backend() != "torch", reason="PyTorch's meta device"
)


def on_meta_device(inputs):
    """Meta tensors with the shapes and dtypes of the arrays `inputs`."""
    import torch

    def meta(array):
        dtype = torch.from_numpy(np.asarray(array)).dtype
        return torch.ones(np.shape(array), dtype=dtype, device="meta")

    return keras.tree.map_structure(meta, inputs)


def shapes(outputs):
    """The shape of every tensor in `outputs`, as tuples."""
    return keras.tree.map_structure(lambda tensor: tuple(tensor.shape),
                                    outputs)


def assert_traces_on_the_meta_device(model, inputs):
    """`model` runs on meta tensors like `inputs`, with a real call's
    output shapes."""
    import torch

    with keras.StatelessScope(), keras.device("meta"), torch.no_grad():
        traced = model(on_meta_device(inputs))
    assert all(tensor.device.type == "meta"
               for tensor in keras.tree.flatten(traced))
    assert shapes(traced) == shapes(model(inputs))


@pytest.mark.parametrize("case", sorted(CASES))
def test_model_traces_on_the_meta_device(case):
    assert_traces_on_the_meta_device(*CASES[case]())


def test_chunked_cross_attention_traces_on_the_meta_device():
    """No export case has inputs long enough to be chunked."""
    rng = np.random.default_rng(0)
    model = tiny_perceiver(input_chunk_size=8)
    model.build((None, 37, 7))
    inputs = rng.normal(size=(3, 37, 7)).astype("float32")
    assert_traces_on_the_meta_device(
        model, {"inputs": inputs, "mask": rng.random((3, 37)) > 0.4}
    )
