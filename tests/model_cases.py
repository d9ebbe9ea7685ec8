"""Models of every kind with the inputs `model.predict` takes (batch 7).

`CASES` maps a name to a function that builds one: every adapter, Perceiver
IO models, masks, mixed precision, nested inputs, a dict of outputs, the
causal LM. The export tests export
each; the meta-device tests call each on meta tensors. To cover another
modality, add a case.
"""

import keras
import numpy as np
from keras import ops

import keras_perceiver as kp
from support import tiny_perceiver

rng = np.random.default_rng(0)


@keras.saving.register_keras_serializable(package="keras_perceiver_tests")
class TwoPartAdapter(keras.layers.Layer):
    """Test adapter for nested dict inputs: `{"a": {"inputs", "mask"}, "b"}`.

    Concatenates the byte arrays `a` (padded, with its mask) and `b` along
    the index axis.
    """

    def build(self, inputs_shape):
        self.num_channels = inputs_shape["b"][-1]

    def call(self, inputs, mask=None):
        part_a, part_b = inputs["a"]["inputs"], inputs["b"]
        byte_array = ops.concatenate([part_a, part_b], axis=1)
        mask = ops.concatenate(
            [
                ops.cast(inputs["a"]["mask"], "bool"),
                ops.ones_like(part_b[..., 0], dtype="bool"),
            ],
            axis=1,
        )
        return ops.cast(byte_array, self.compute_dtype), mask

    def compute_output_shape(self, inputs_shape):
        shape_a, shape_b = inputs_shape["a"]["inputs"], inputs_shape["b"]
        length = shape_a[1] + shape_b[1]
        return (shape_a[0], length, self.num_channels), (shape_a[0], length)


def random_mask(batch_size, length):
    mask = rng.uniform(size=(batch_size, length)) > 0.4
    mask[:, 0] = True
    return mask


def images_case():
    model = tiny_perceiver()
    model.build((None, 8, 8, 2))
    return model, rng.uniform(size=(7, 8, 8, 2)).astype("float32")


def byte_arrays_with_mask_case():
    model = tiny_perceiver()
    model.build((None, 20, 6))  # Without a mask: the signature has one.
    inputs = rng.normal(size=(7, 20, 6)).astype("float32")
    return model, {"inputs": inputs, "mask": random_mask(7, 20)}


def mixed_precision_case():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = tiny_perceiver()
    finally:
        keras.config.set_dtype_policy("float32")
    model.build((None, 8, 8, 2))
    return model, rng.uniform(size=(7, 8, 8, 2)).astype("float32")


def nested_dict_case():
    inputs = {
        "a": {
            "inputs": rng.normal(size=(7, 12, 6)).astype("float32"),
            "mask": random_mask(7, 12),
        },
        "b": rng.normal(size=(7, 5, 6)).astype("float32"),
    }
    model = tiny_perceiver(input_adapter=TwoPartAdapter())
    model.build(keras.tree.map_structure(lambda array: array.shape, inputs))
    return model, inputs


def point_cloud_case():
    """With training augmentation, whose random state must not matter."""
    points = rng.uniform(-1, 1, size=(7, 30, 3)).astype("float32")
    model = tiny_perceiver(input_adapter=kp.adapters.PointCloudAdapter(
        num_bands=4, num_points=20, scale_range=(0.8, 1.25),
        jitter_stddev=0.01, seed=0))
    model.build((None, 30, 3))
    return model, points


def trained_cropped_patched_images_case():
    """Trained for a step, on random crops cut into patches (eagerly: on
    TensorFlow, tracing a train function for one step costs 7 CPU-seconds
    more)."""
    images = rng.uniform(size=(7, 8, 8, 2)).astype("float32")
    model = tiny_perceiver(input_adapter=kp.adapters.ImageAdapter(
        num_bands=4, crop_size=6, patch_size=2, seed=0))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  run_eagerly=True)
    model.fit(images, np.arange(7) % 5, epochs=1, verbose=0)
    return model, images


def video_case():
    videos = rng.uniform(size=(7, 2, 4, 4, 1)).astype("float32")
    model = tiny_perceiver(input_adapter=kp.adapters.VideoAdapter(
        patch_size=(1, 2, 2), num_bands=4))
    model.build((None, 2, 4, 4, 1))
    return model, videos


def masked_spectrogram_case():
    inputs = {
        "inputs": rng.normal(size=(7, 10, 6)).astype("float32"),
        "mask": random_mask(7, 10),
    }
    model = tiny_perceiver(input_adapter=kp.adapters.SpectrogramAdapter(
        num_bands=4))
    model.build({"inputs": (None, 10, 6), "mask": (None, 10)})
    return model, inputs


def sequence_case():
    sequences = rng.normal(size=(7, 9, 5)).astype("float32")
    model = tiny_perceiver(input_adapter=kp.adapters.SequenceAdapter(
        num_bands=4))
    model.build((None, 9, 5))
    return model, sequences


def masked_audio_case():
    inputs = {
        "inputs": rng.normal(size=(7, 64)).astype("float32"),
        "mask": np.arange(64)[None].repeat(7, 0) < rng.integers(
            8, 65, (7, 1)),
    }
    model = tiny_perceiver(input_adapter=kp.adapters.AudioAdapter(
        patch_size=8, num_bands=4))
    model.build({"inputs": (None, 64), "mask": (None, 64)})
    return model, inputs


def multimodal_case():
    inputs = {
        "image": rng.uniform(size=(7, 6, 6, 1)).astype("float32"),
        "audio": {
            "inputs": rng.normal(size=(7, 32)).astype("float32"),
            "mask": random_mask(7, 32),
        },
    }
    adapter = kp.adapters.MultimodalAdapter({
        "image": kp.adapters.ImageAdapter(num_bands=4),
        "audio": kp.adapters.AudioAdapter(patch_size=8, num_bands=4),
    }, modality_dropout={"audio": 0.3}, seed=0)
    model = tiny_perceiver(input_adapter=adapter)
    model.build(keras.tree.map_structure(lambda array: array.shape, inputs))
    return model, inputs


RGB_FILES = {"modality": "image", "image_size": [8, 8], "channels": 3}


def named_rgb_classes_case():
    """With the preprocessor of a model trained on RGB image files."""
    model = tiny_perceiver(
        class_names=["cat", "dog", "owl", "bee", "ant"],
        preprocessor=kp.preprocessing.FilePreprocessor(**RGB_FILES))
    model.build((None, 8, 8, 3))
    return model, rng.uniform(size=(7, 8, 8, 3)).astype("float32")


def perceiver_io_classifier_case():
    encoder = kp.PerceiverEncoder(
        num_latents=8, latent_dim=16, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=2, num_bands=4,
        block_scheme="perceiver_io",
    )
    model = kp.PerceiverIOClassifier(encoder, num_classes=5)
    model.build((None, 8, 8, 2))
    return model, rng.uniform(size=(7, 8, 8, 2)).astype("float32")


def perceiver_io_dense_case():
    encoder = kp.PerceiverEncoder(
        num_latents=8, latent_dim=16, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=2, num_bands=4,
    )
    model = kp.PerceiverIO(
        encoder,
        output_queries=kp.layers.FourierQueries((8, 8), num_bands=4),
        decoder=kp.layers.PerceiverDecoder(2, use_query_residual=False),
    )
    model.build((None, 8, 8, 1))
    return model, rng.uniform(size=(7, 8, 8, 1)).astype("float32")


def masked_lm_case():
    encoder = kp.PerceiverEncoder(
        num_latents=8, latent_dim=16, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=2,
        block_scheme="perceiver_io",
        input_adapter=kp.adapters.TextAdapter(max_length=16, embedding_dim=8),
    )
    model = kp.PerceiverMaskedLM(encoder, decoder_num_heads=2)
    texts = ["abc", "a longer one", "x", "yz", "q", "hello", "bytes"]
    ids, mask = kp.ByteTokenizer().encode(texts, length=16)
    inputs = {"inputs": ids, "mask": mask}
    model.build({"inputs": (None, 16), "mask": (None, 16)})
    return model, inputs


def causal_lm_case():
    """Left-padded token ids of the whole context (the padding its mask)."""
    model = kp.PerceiverCausalLM(max_context=12, num_latents=4, latent_dim=8,
                                 num_self_heads=2, widening_factor=1)
    ids = rng.integers(6, 262, (7, 12)).astype("int32")
    ids[np.arange(12) < rng.integers(0, 8, (7, 1))] = kp.ByteTokenizer.pad_id
    model.build((None, 12))
    return model, ids


def multimodal_autoencoder_case():
    """Video, audio and a label in; each reconstructed, a dict out."""
    adapter = kp.adapters.MultimodalAutoencodingAdapter(
        num_frames=2, frame_size=4, audio_samples_per_frame=8,
        num_labels=3, num_channels=1, samples_per_patch=8,
        audio_num_bands=2, video_num_bands=2,
    )
    encoder = kp.PerceiverEncoder(
        num_latents=4, latent_dim=8, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=2,
        block_scheme="perceiver_io", input_adapter=adapter,
    )
    model = kp.PerceiverMultimodalAutoencoder(
        encoder, output_num_channels=4, label_query_channels=4)
    inputs = {
        "audio": rng.normal(size=(7, 16)).astype("float32"),
        "video": rng.uniform(size=(7, 2, 4, 4, 1)).astype("float32"),
        "label": np.eye(3, dtype="float32")[np.arange(7) % 3],
    }
    model.build(keras.tree.map_structure(lambda array: array.shape, inputs))
    # Random heads (they start at zero), so that the outputs tell apart.
    for head in model.heads.values():
        head.kernel.assign(rng.normal(0, 0.2, head.kernel.shape))
    return model, inputs


CASES = {
    "images": images_case,
    "perceiver_io_classifier": perceiver_io_classifier_case,
    "perceiver_io_dense": perceiver_io_dense_case,
    "masked_lm": masked_lm_case,
    "byte_arrays_with_mask": byte_arrays_with_mask_case,
    "mixed_bfloat16": mixed_precision_case,
    "nested_dict": nested_dict_case,
    "point_cloud": point_cloud_case,
    "trained_cropped_patched_images": trained_cropped_patched_images_case,
    "video": video_case,
    "masked_spectrogram": masked_spectrogram_case,
    "sequence": sequence_case,
    "masked_audio": masked_audio_case,
    "multimodal": multimodal_case,
    "named_rgb_classes": named_rgb_classes_case,
    "causal_lm": causal_lm_case,
    "multimodal_autoencoder": multimodal_autoencoder_case,
}
