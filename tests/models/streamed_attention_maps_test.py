"""Cross-attention maps streamed chunk by chunk of the inputs.

`cross_attention_map_chunks` yields the exact slices of the whole
`cross_attention_maps` matrix (masks and fully masked examples included)
for every task; `mean_cross_attention_maps` and the attention plot fill
their arrays from those chunks, so that a large input's map never exists
as a whole `(heads, N, M)` matrix.
"""

import numpy as np
import pytest

import keras_perceiver as kp
from keras_perceiver.layers.perceiver_attention import AUTO_CHUNK_SIZE
from keras_perceiver.layers.perceiver_attention import PerceiverAttention
from keras_perceiver.reports import plotting
from bad_input import assert_value_error
from model_cases import causal_lm_case, multimodal_autoencoder_case
from models.task_attention_maps_test import image_tasks, tiny_encoder
from support import tiny_flow_model, tiny_perceiver, to_numpy
from reports.plotting_test import tiny_dataset

rng = np.random.default_rng(0)
CHUNK_SIZE = 5


def masked_byte_arrays():
    """23 elements, some masked; the last example wholly masked."""
    mask = rng.uniform(size=(3, 23)) > 0.3
    mask[-1] = False
    return {"inputs": rng.normal(size=(3, 23, 5)).astype("float32"),
            "mask": mask}


def masked_lm_case():
    encoder = tiny_encoder(input_adapter=kp.adapters.TextAdapter(
        max_length=16, embedding_dim=6))
    ids, mask = kp.ByteTokenizer().encode(["a [MASK] b", "bytes"], length=12)
    return (kp.PerceiverMaskedLM(encoder, decoder_num_heads=2),
            {"inputs": ids, "mask": mask})


def optical_flow_case():
    return (tiny_flow_model(),
            rng.uniform(size=(2, 2, 6, 8, 3)).astype("float32"))


def image_task_case(name):
    images = rng.uniform(size=(2, 6, 6, 1)).astype("float32")
    return lambda: (image_tasks()[name], images)


# The other tasks, each a (model, inputs) builder and the backend it runs
# on. The chunks come from the same layers whatever the task (only the
# input adapter differs), so these are shared between TensorFlow and
# PyTorch, whose eager calls cost the least CPU (JAX's cost several times
# more); the masked Perceiver runs on each backend.
OTHER_TASKS = {
    "masked_lm": (masked_lm_case, "tensorflow"),
    "perceiver_io_classifier": (image_task_case("perceiver_io_classifier"),
                                "tensorflow"),
    "optical_flow": (optical_flow_case, "torch"),
    "perceiver_io": (image_task_case("perceiver_io"), "torch"),
    "multimodal_autoencoder": (multimodal_autoencoder_case, "tensorflow"),
    # Its own maps (a causal cross-attend): on every backend.
    "causal_lm": (causal_lm_case, None),
}


@pytest.fixture(scope="module")
def masked_perceiver():
    """A built `Perceiver` with two heads and its masked inputs."""
    model = tiny_perceiver(num_blocks=1, num_cross_heads=2,
                           cross_qk_channels=8)
    inputs = masked_byte_arrays()
    model(inputs)
    return model, inputs


def assert_chunks_are_slices_of_the_whole(model, inputs):
    whole = to_numpy(model.cross_attention_maps(inputs))
    chunks = list(model.cross_attention_map_chunks(inputs,
                                                   chunk_size=CHUNK_SIZE))
    assert [start for start, _ in chunks] == list(
        range(0, whole.shape[-1], CHUNK_SIZE))
    for start, maps in chunks:
        np.testing.assert_allclose(
            to_numpy(maps), whole[..., start:start + CHUNK_SIZE], atol=1e-6)
    np.testing.assert_allclose(
        to_numpy(model.cross_attention_maps(inputs, chunk_size=CHUNK_SIZE)),
        whole, atol=1e-6)


def test_chunks_of_masked_inputs_are_slices_of_the_whole_matrix(
        masked_perceiver):
    assert_chunks_are_slices_of_the_whole(*masked_perceiver)


@pytest.mark.parametrize("task", [
    pytest.param(name, marks=[pytest.mark.one_backend(backend)]
                 if backend else [])
    for name, (_, backend) in sorted(OTHER_TASKS.items())])
def test_every_task_streams_slices_of_the_whole_matrix(task):
    model, inputs = OTHER_TASKS[task][0]()
    model(inputs)
    assert_chunks_are_slices_of_the_whole(model, inputs)


def test_mean_maps_are_the_chosen_latents_averaged_over_heads(
        masked_perceiver):
    model, inputs = masked_perceiver
    whole = to_numpy(model.cross_attention_maps(inputs))
    # Any order, a latent twice: only these rows are computed.
    maps = model.mean_cross_attention_maps(inputs, [3, 0, 3],
                                           chunk_size=CHUNK_SIZE)
    assert isinstance(maps, np.ndarray) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, whole[:, :, [3, 0, 3]].mean(axis=1),
                               atol=1e-6)
    # Masked inputs get nothing; a wholly masked example, uniform maps.
    padding = ~inputs["mask"][:-1, None, :]
    np.testing.assert_array_equal(np.where(padding, maps[:-1], 0.0), 0.0)
    np.testing.assert_allclose(maps[-1], 1 / 23, rtol=1e-6)


def test_causal_maps_see_no_later_position_and_no_padding():
    model, ids = causal_lm_case()  # 12 positions, 4 latents, left padding
    whole = to_numpy(model.cross_attention_maps(ids))
    maps = model.mean_cross_attention_maps(ids, [3, 0, 3],
                                           chunk_size=CHUNK_SIZE)
    np.testing.assert_allclose(maps, whole[:, :, [3, 0, 3]].mean(axis=1),
                               atol=1e-6)
    # Latent n sits at position 8 + n and sees that position and before.
    later = np.arange(12)[None, :] > (8 + np.arange(4))[:, None]
    padding = (ids == kp.ByteTokenizer.pad_id)[:, None, :]
    np.testing.assert_array_equal(
        np.where(later[None] | padding, whole.mean(axis=1), 0.0), 0.0)
    np.testing.assert_allclose(whole.sum(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.backend_independent
def test_drawing_a_large_input_never_builds_the_whole_matrix(
        tmp_path, monkeypatch):
    side = 72  # 5,184 pixels: chunks of 4,096 and 1,088.
    images = rng.uniform(size=(2, side, side, 1)).astype("float32")
    model = tiny_perceiver(num_blocks=1)
    model(images)
    widths = []
    logits = PerceiverAttention._attention_logits

    def recorded(self, queries, keys, mask):
        widths.append(keys.shape[1])
        return logits(self, queries, keys, mask)

    def refused(*args, **kwargs):
        raise AssertionError("the whole attention matrix was built")

    monkeypatch.setattr(PerceiverAttention, "_attention_logits", recorded)
    monkeypatch.setattr(PerceiverAttention, "attention_weights", refused)
    path = tmp_path / "attention_maps.png"
    plotting.plot_attention_maps(model, tiny_dataset(images, "image"), path,
                                 num_latents=2)
    assert path.read_bytes().startswith(b"\x89PNG")
    # Two passes over the two chunks.
    assert widths == [AUTO_CHUNK_SIZE, side * side - AUTO_CHUNK_SIZE] * 2


BAD_CHUNK_SIZES = [0, -3, 2.5, True, "8"]
MAP_METHODS = {
    "cross_attention_maps": lambda model, inputs, chunk_size:
        model.cross_attention_maps(inputs, chunk_size=chunk_size),
    "cross_attention_map_chunks": lambda model, inputs, chunk_size:
        model.cross_attention_map_chunks(inputs, chunk_size=chunk_size),
    "mean_cross_attention_maps": lambda model, inputs, chunk_size:
        model.mean_cross_attention_maps(inputs, [0], chunk_size=chunk_size),
}


@pytest.mark.backend_independent
@pytest.mark.parametrize("method", sorted(MAP_METHODS))
@pytest.mark.parametrize("chunk_size", BAD_CHUNK_SIZES)
def test_a_bad_chunk_size_is_refused(masked_perceiver, method, chunk_size):
    model, inputs = masked_perceiver
    assert_value_error(
        lambda: MAP_METHODS[method](model, inputs, chunk_size),
        "`chunk_size` must be a positive integer",
        f"Received: chunk_size={chunk_size!r}")


@pytest.mark.backend_independent
@pytest.mark.parametrize("method", ["cross_attention_map_chunks",
                                    "mean_cross_attention_maps"])
def test_a_streamed_map_needs_a_chunk_size(masked_perceiver, method):
    model, inputs = masked_perceiver
    assert_value_error(lambda: MAP_METHODS[method](model, inputs, None),
                       "`chunk_size` must be a positive integer",
                       "Received: chunk_size=None")


@pytest.mark.backend_independent
@pytest.mark.parametrize("latents", [[], [8], [-1], [0.5], "0", 3, None])
def test_bad_latent_indices_are_refused(masked_perceiver, latents):
    model, inputs = masked_perceiver  # 8 latents
    assert_value_error(
        lambda: model.mean_cross_attention_maps(inputs, latents),
        "`latents` must be a non-empty list of indices, each in [0, 8)",
        f"Received: latents={latents!r}")
