"""`model.summary()` on every model class, built, on every backend.

Subclassed models list each sub-layer's output shape from its
`compute_output_shape`; an input adapter's is `(byte_array, mask)` with the
mask shape None, which Keras' torch and JAX structure utilities cannot
map (they raised `TypeError: 'NoneType' object is not iterable`).
"""

import keras
import pytest

import keras_perceiver as kp

ENCODER = dict(num_latents=8, latent_dim=16, num_blocks=1,
               num_self_attends_per_block=1, num_self_heads=2, num_bands=4)


def perceiver():
    return kp.Perceiver(num_classes=3, **ENCODER), (None, 8, 8, 1)


def perceiver_on_byte_arrays():
    return kp.Perceiver(num_classes=3, **ENCODER), {
        "inputs": (None, 10, 4), "mask": (None, 10)}


def perceiver_encoder():
    return kp.PerceiverEncoder(**ENCODER), (None, 8, 8, 1)


def perceiver_io():
    model = kp.PerceiverIO(
        kp.PerceiverEncoder(**ENCODER),
        output_queries=kp.layers.FourierQueries((8, 8), num_bands=4),
        decoder=kp.layers.PerceiverDecoder(2, use_query_residual=False),
    )
    return model, (None, 8, 8, 1)


def perceiver_io_classifier():
    encoder = kp.PerceiverEncoder(block_scheme="perceiver_io", **ENCODER)
    return kp.PerceiverIOClassifier(encoder, num_classes=3), (None, 8, 8, 1)


def perceiver_masked_lm():
    encoder = kp.PerceiverEncoder(
        block_scheme="perceiver_io",
        input_adapter=kp.adapters.TextAdapter(max_length=16, embedding_dim=8),
        **{key: value for key, value in ENCODER.items()
           if key != "num_bands"},
    )
    model = kp.PerceiverMaskedLM(encoder, decoder_num_heads=2)
    return model, {"inputs": (None, 16), "mask": (None, 16)}


def perceiver_optical_flow():
    encoder = kp.PerceiverEncoder(
        block_scheme="perceiver_io",
        input_adapter=kp.adapters.FlowAdapter(num_channels=4, num_bands=2),
        **{key: value for key, value in ENCODER.items()
           if key != "num_bands"},
    )
    return kp.PerceiverOpticalFlow(encoder), (None, 2, 6, 6, 3)


def perceiver_multimodal_autoencoder():
    encoder = kp.PerceiverEncoder(
        block_scheme="perceiver_io",
        input_adapter=kp.adapters.MultimodalAutoencodingAdapter(
            num_frames=2, frame_size=8, audio_samples_per_frame=16,
            num_labels=10, num_channels=1, samples_per_patch=8,
            audio_num_bands=2, video_num_bands=2),
        **{key: value for key, value in ENCODER.items()
           if key != "num_bands"},
    )
    model = kp.PerceiverMultimodalAutoencoder(
        encoder, output_num_channels=4, label_query_channels=4)
    return model, {"audio": (None, 32), "video": (None, 2, 8, 8, 1),
                   "label": (None, 10)}


def perceiver_causal_lm():
    model = kp.PerceiverCausalLM(
        max_context=16, num_latents=4, latent_dim=8, num_self_attends=1,
        num_cross_heads=1, num_self_heads=2)
    return model, (None, 16)


MODELS = [perceiver, perceiver_on_byte_arrays, perceiver_encoder,
          perceiver_io, perceiver_io_classifier, perceiver_masked_lm,
          perceiver_optical_flow, perceiver_multimodal_autoencoder,
          perceiver_causal_lm]


def test_every_model_class_is_covered():
    # (`PerceiverTask` is the tasks' base, not a model of its own.)
    exported = {value for value in vars(kp.models).values()
                if isinstance(value, type) and issubclass(value, keras.Model)
                and value is not kp.models.PerceiverTask}
    assert {type(make()[0]) for make in MODELS} == exported


@pytest.mark.parametrize("make", MODELS, ids=lambda make: make.__name__)
def test_summary_of_a_built_model_lists_its_layers(make, capsys):
    model, input_shape = make()
    model.build(input_shape)
    model.summary()
    printed = capsys.readouterr().out
    assert "Total params" in printed
    for layer in model.layers:
        assert layer.name in printed
