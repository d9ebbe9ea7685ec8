"""Hugging Face Perceiver checkpoints in keras-perceiver, against transformers.

Tiny random-weight transformers models are converted from the object and
from a `save_pretrained` folder; logits and encoder latents must match
transformers' to 1e-4 (float32). Run with `-s` to see the measured
differences. Skipped without torch and transformers (test-only extras).
"""

import json
import os
import sys

import keras
import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402
import transformers  # noqa: E402
from checkpoint_support import PUBLISHED  # noqa: E402
from checkpoint_support import TINY_CHECKPOINTS  # noqa: E402
from checkpoint_support import hf_image_processor  # noqa: E402
from checkpoint_support import hf_outputs  # noqa: E402
from checkpoint_support import save_tiny_checkpoint  # noqa: E402
from checkpoint_support import tiny_hf_model  # noqa: E402
from checkpoint_support import tiny_inputs  # noqa: E402
from PIL import Image  # noqa: E402
from support import to_numpy  # noqa: E402

import keras_perceiver as kp  # noqa: E402
from keras_perceiver.preprocessing.preprocessor import (  # noqa: E402
    preprocessor_of,
)
from keras_perceiver import pretrained  # noqa: E402
from keras_perceiver.pretrained import conversion  # noqa: E402
from keras_perceiver.pretrained import files  # noqa: E402

TOLERANCE = 1e-4
ARCHITECTURES = list(TINY_CHECKPOINTS)
IMAGE_ARCHITECTURES = [
    name for name in ARCHITECTURES if TINY_CHECKPOINTS[name][1] == "image"
]
LEARNED = "PerceiverForImageClassificationLearned"
FOURIER = "PerceiverForImageClassificationFourier"
MASKED_LM = "PerceiverForMaskedLM"
FLOW = "PerceiverForOpticalFlow"


def image_size(architecture):
    return TINY_CHECKPOINTS[architecture][2]


def converted(architecture, source, tmp_path):
    """A tiny transformers model and its conversion from `source`."""
    if source == "object":
        model = tiny_hf_model(architecture)
        kwargs = {}
        if TINY_CHECKPOINTS[architecture][1] == "image":
            kwargs["image_size"] = image_size(architecture)
        return model, pretrained.load_checkpoint(model, **kwargs)
    model = save_tiny_checkpoint(architecture, tmp_path)
    kwargs = {}
    if architecture in IMAGE_ARCHITECTURES and architecture != LEARNED:
        kwargs["image_size"] = image_size(architecture)
    return model, pretrained.load_checkpoint(str(tmp_path), **kwargs)


def keras_outputs(model, inputs, mask):
    if mask is not None:
        inputs = {"inputs": inputs, "mask": mask}
    return to_numpy(model(inputs)), to_numpy(model.encoder(inputs))


def max_differences(hf_model, model, inputs, mask):
    hf_logits, hf_latents = hf_outputs(hf_model, inputs, mask)
    logits, latents = keras_outputs(model, inputs, mask)
    assert logits.shape == hf_logits.shape
    assert latents.shape == hf_latents.shape
    return (float(np.abs(logits - hf_logits).max()),
            float(np.abs(latents - hf_latents).max()))


# Reading a folder does not depend on the backend; the conversion from the
# object checks every architecture's outputs on every backend.
@pytest.mark.parametrize(
    "source",
    ["object", pytest.param("folder", marks=pytest.mark.backend_independent)],
)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_outputs_match_transformers(architecture, source, tmp_path):
    hf_model, model = converted(architecture, source, tmp_path)
    kind = TINY_CHECKPOINTS[architecture][1]
    for batch_size in (1, 3):
        inputs, mask = tiny_inputs(architecture, batch_size)
        masks = [None, mask] if kind == "text" else [None]
        for mask in masks:
            logits, latents = max_differences(hf_model, model, inputs, mask)
            print(
                f"\n{architecture} from {source}, batch {batch_size}, "
                f"{'with' if mask is not None else 'no'} mask: max |diff| "
                f"logits {logits:.2e}, latents {latents:.2e} "
                f"[{keras.config.backend()}]"
            )
            assert logits <= TOLERANCE and latents <= TOLERANCE


@pytest.mark.parametrize(
    "architecture",
    ["PerceiverForMaskedLM", "PerceiverForSequenceClassification"],
)
def test_the_mask_is_applied(architecture):
    model = pretrained.load_checkpoint(tiny_hf_model(architecture))
    ids, mask = tiny_inputs(architecture, 3)
    unmasked = to_numpy(model.encoder(ids))
    masked = to_numpy(model.encoder({"inputs": ids, "mask": mask}))
    # Only the last sequence is padded.
    np.testing.assert_allclose(masked[:2], unmasked[:2], atol=1e-6)
    assert np.abs(masked[2] - unmasked[2]).max() > 1e-3


def test_converted_models_and_class_names(tmp_path):
    labels = {0: "tench", 1: "goldfish", 2: "shark", 3: "ray", 4: "cock"}
    save_tiny_checkpoint(FOURIER, tmp_path, id2label=labels)
    model = pretrained.load_checkpoint(str(tmp_path), image_size=12)
    assert isinstance(model, kp.PerceiverIOClassifier)
    assert model.class_names == list(labels.values())
    assert model.encoder.block_scheme == "perceiver_io"
    language = pretrained.load_checkpoint(tiny_hf_model(MASKED_LM))
    assert isinstance(language, kp.PerceiverMaskedLM)


def test_class_names_survive_a_keras_file(tmp_path):
    labels = {index: f"class {index}" for index in range(5)}
    save_tiny_checkpoint(LEARNED, tmp_path / "checkpoint", id2label=labels)
    model = pretrained.load_checkpoint(str(tmp_path / "checkpoint"))
    images, _ = tiny_inputs(LEARNED, 2)
    expected = to_numpy(model(images))
    model.save(str(tmp_path / "model.keras"))
    restored = keras.saving.load_model(str(tmp_path / "model.keras"))
    assert restored.class_names == list(labels.values())
    np.testing.assert_allclose(to_numpy(restored(images)), expected,
                               atol=1e-6)


@pytest.mark.backend_independent
@pytest.mark.slow
@pytest.mark.parametrize("architecture", list(PUBLISHED))
def test_published_configurations_build_to_transformers_counts(architecture):
    config = transformers.PerceiverConfig(**PUBLISHED[architecture])
    with torch.device("meta"):
        hf_model = getattr(transformers, architecture)(config)
    expected = sum(parameter.numel() for parameter in hf_model.parameters())
    settings = config.to_dict()
    settings["architectures"] = [architecture]
    size = {MASKED_LM: None, FLOW: settings["train_size"]}.get(
        architecture, (224, 224))
    model = conversion.build_model(architecture, settings, size)
    trainable = sum(
        int(np.prod(weight.shape)) for weight in model.trainable_weights
    )
    print(f"\n{architecture}: {trainable:,} parameters "
          f"(transformers {expected:,})")
    assert trainable == expected
    if architecture == "PerceiverForImageClassificationConvProcessing":
        # BatchNorm's moving mean and variance: buffers in PyTorch.
        assert model.count_params() == expected + 2 * 64


@pytest.mark.backend_independent
def test_image_preprocessing_matches_transformers(tmp_path):
    rng = np.random.default_rng(0)
    preprocessor = pretrained.ImagePreprocessor()
    for shape in [(300, 400, 3), (257, 255, 3), (180, 100, 3)]:
        image = rng.integers(0, 256, size=shape, dtype=np.uint8)
        path = str(tmp_path / f"image_{shape[0]}.png")
        Image.fromarray(image).save(path)
        expected = hf_image_processor()(
            Image.open(path), return_tensors="np"
        ).pixel_values.transpose(0, 2, 3, 1)
        for source in (path, Image.open(path), image):
            np.testing.assert_array_equal(preprocessor(source), expected)


@pytest.mark.backend_independent
def test_image_preprocessor_reads_preprocessor_config(tmp_path):
    save_tiny_checkpoint(FOURIER, tmp_path)
    hf_image_processor(size=12).save_pretrained(str(tmp_path))
    preprocessor = pretrained.load_image_preprocessor(str(tmp_path))
    assert preprocessor.size == (12, 12)
    assert preprocessor.crop_size == (14, 14)
    # Without image_size, the model is built for the preprocessor's size.
    model = pretrained.load_checkpoint(str(tmp_path))
    assert model.encoder.byte_array_shape[1] == 12 * 12


def test_a_loaded_image_checkpoint_keeps_its_preprocessor(tmp_path):
    save_tiny_checkpoint(FOURIER, tmp_path)
    hf_image_processor(size=12).save_pretrained(str(tmp_path))
    model = pretrained.load_checkpoint(str(tmp_path))
    expected = pretrained.load_image_preprocessor(str(tmp_path)).get_config()
    assert model.preprocessor.get_config() == expected
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.preprocessor, pretrained.ImagePreprocessor)
    assert loaded.preprocessor.get_config() == expected


@pytest.mark.parametrize("architecture", IMAGE_ARCHITECTURES)
def test_an_image_file_gives_the_checkpoints_predictions(
    architecture, tmp_path
):
    size = image_size(architecture)
    folder = tmp_path / "checkpoint"
    hf_model = save_tiny_checkpoint(architecture, folder)
    hf_processor = hf_image_processor(size)
    hf_processor.save_pretrained(str(folder))
    image = np.random.default_rng(1).integers(0, 256, (40, 50, 3), np.uint8)
    path = str(tmp_path / "image.jpg")
    Image.fromarray(image).save(path)
    with torch.no_grad():
        expected = hf_model(
            **hf_processor(Image.open(path), return_tensors="pt")
        ).logits.numpy()
    model = pretrained.load_checkpoint(str(folder))
    preprocessor = pretrained.load_image_preprocessor(str(folder))
    logits = to_numpy(model(preprocessor([path])))
    print(f"\n{architecture}, image file: max |diff| logits "
          f"{np.abs(logits - expected).max():.2e}")
    np.testing.assert_allclose(logits, expected, atol=TOLERANCE)
    (top,) = pretrained.classify_images(model, preprocessor, [path], 3)
    assert top[0][0] == model.class_names[int(expected.argmax())]
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]


@pytest.mark.backend_independent
def test_pytorch_bin_weights(tmp_path):
    hf_model = tiny_hf_model(LEARNED)
    hf_model.config.architectures = [LEARNED]
    hf_model.config.save_pretrained(str(tmp_path))
    torch.save(hf_model.state_dict(), str(tmp_path / "pytorch_model.bin"))
    model = pretrained.load_checkpoint(str(tmp_path))
    images, _ = tiny_inputs(LEARNED, 2)
    logits, latents = max_differences(hf_model, model, images, None)
    assert logits <= TOLERANCE and latents <= TOLERANCE


@pytest.mark.backend_independent
def test_pytorch_bin_without_torch_is_a_clear_error(tmp_path, monkeypatch):
    hf_model = tiny_hf_model(LEARNED)
    hf_model.config.architectures = [LEARNED]
    hf_model.config.save_pretrained(str(tmp_path))
    torch.save(hf_model.state_dict(), str(tmp_path / "pytorch_model.bin"))
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch fails
    with pytest.raises(ValueError, match="only PyTorch can read"):
        files.read_weights(str(tmp_path))


def write_config(folder, **changes):
    path = os.path.join(folder, "config.json")
    with open(path) as file:
        config = json.load(file)
    config.update(changes)
    with open(path, "w") as file:
        json.dump(config, file)


@pytest.mark.backend_independent
def test_folder_missing_files(tmp_path):
    with pytest.raises(ValueError, match="lacks config.json and"):
        pretrained.load_checkpoint(str(tmp_path))
    save_tiny_checkpoint(LEARNED, tmp_path)
    os.remove(tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match="lacks model.safetensors"):
        pretrained.load_checkpoint(str(tmp_path))


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "architecture, match",
    [
        ("PerceiverModel", "bare PerceiverModel"),
        ("BertForMaskedLM", "must be one of"),
    ],
)
def test_unsupported_architectures(architecture, match, tmp_path):
    save_tiny_checkpoint(LEARNED, tmp_path)
    write_config(tmp_path, architectures=[architecture])
    with pytest.raises(ValueError, match=match):
        pretrained.load_checkpoint(str(tmp_path))


@pytest.mark.backend_independent
def test_not_a_perceiver(tmp_path):
    save_tiny_checkpoint(LEARNED, tmp_path)
    write_config(tmp_path, model_type="bert")
    with pytest.raises(ValueError, match="not a Perceiver"):
        pretrained.load_checkpoint(str(tmp_path))


@pytest.mark.backend_independent
def test_config_that_does_not_match_the_weights(tmp_path):
    save_tiny_checkpoint(LEARNED, tmp_path)
    write_config(tmp_path, d_latents=32)
    with pytest.raises(ValueError, match="perceiver.embeddings.latents of "
                                         "shape \\(4, 16\\)"):
        pretrained.load_checkpoint(str(tmp_path))
    write_config(tmp_path, d_latents=16, num_self_attends_per_block=3)
    # Checked against the tensors' shapes before the model is built.
    with pytest.raises(ValueError, match="num_self_attends_per_block=3, "
                                         "weights holding 2 self-attention"):
        pretrained.load_checkpoint(str(tmp_path))
    write_config(tmp_path, num_self_attends_per_block=1)
    with pytest.raises(ValueError, match="num_self_attends_per_block=1, "
                                         "weights holding 2 self-attention"):
        pretrained.load_checkpoint(str(tmp_path))


@pytest.mark.backend_independent
def test_learned_positions_fix_the_image_size(tmp_path):
    save_tiny_checkpoint(LEARNED, tmp_path)
    with pytest.raises(ValueError, match="position_embeddings"):
        pretrained.load_checkpoint(str(tmp_path), image_size=16)


@pytest.mark.backend_independent
def test_unreachable_hub_id_is_a_one_line_error():
    with pytest.raises(ValueError, match="could not be fetched") as error:
        pretrained.load_checkpoint("keras-perceiver-tests/no-such-model")
    assert "\n" not in str(error.value)
    assert "pass a local folder" in str(error.value)


@pytest.mark.backend_independent
@pytest.mark.parametrize("checkpoint", ["no/such/folder", "./missing"])
def test_neither_folder_nor_hub_id(checkpoint):
    with pytest.raises(ValueError, match="must be a folder"):
        pretrained.load_checkpoint(checkpoint)


@pytest.mark.backend_independent
def test_text_checkpoints_take_no_image_preprocessor(tmp_path):
    save_tiny_checkpoint(MASKED_LM, tmp_path)
    with pytest.raises(ValueError, match="Only image classifiers"):
        pretrained.load_image_preprocessor(str(tmp_path))


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"size": 0}, "size"),
        ({"crop_size": (1, 2, 3)}, "crop_size"),
        ({"image_mean": (0.5, 0.5)}, "image_mean"),
        ({"image_std": (1.0, 0.0, 1.0)}, "image_std"),
        ({"resample": "bicubic"}, "resample"),
        ({"do_resize": "yes"}, "do_resize"),
    ],
)
def test_bad_preprocessor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pretrained.ImagePreprocessor(**kwargs)


@pytest.mark.backend_independent
def test_bad_images(tmp_path):
    preprocessor = pretrained.ImagePreprocessor(size=8, crop_size=8)
    with pytest.raises(ValueError, match="uint8"):
        preprocessor(np.zeros((8, 8, 3), "float32"))
    (tmp_path / "not_an_image.jpg").write_text("text")
    with pytest.raises(ValueError, match="could not be read"):
        preprocessor(str(tmp_path / "not_an_image.jpg"))
    config = pretrained.ImagePreprocessor(size=(8, 6)).get_config()
    assert pretrained.ImagePreprocessor.from_config(config).get_config() == (
        config
    )


def test_fine_tuning_keeps_the_encoder_with_a_new_head(tmp_path):
    model = pretrained.load_checkpoint(tiny_hf_model(FOURIER), image_size=12)
    latents = to_numpy(model.encoder.latents)
    assert pretrained.checkpoint_image_size(model) == (12, 12)
    fine_tuned = pretrained.fine_tuning_classifier(
        model, (8, 8, 1), num_classes=3, class_names=["a", "b", "c"]
    )
    classifier = fine_tuned.get_layer("perceiver_io_classifier")
    assert classifier.encoder is model.encoder
    np.testing.assert_array_equal(to_numpy(classifier.encoder.latents),
                                  latents)
    images = np.random.default_rng(0).uniform(size=(4, 8, 8, 1))
    assert tuple(fine_tuned(images.astype("float32")).shape) == (4, 3)
    fine_tuned.compile(optimizer="adam", loss=keras.losses.
                       SparseCategoricalCrossentropy(from_logits=True))
    fine_tuned.fit(images, np.arange(4) % 3, epochs=1, verbose=0)
    path = str(tmp_path / "fine_tuned.keras")
    fine_tuned.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(to_numpy(restored(images)),
                               to_numpy(fine_tuned(images)), atol=1e-5)


def test_fine_tuning_keeps_the_preprocessors(tmp_path):
    # The checkpoint's normalisation inside the model, the data's file
    # reading on its classifier (so `predict` reads files through it).
    model = pretrained.load_checkpoint(tiny_hf_model(FOURIER), image_size=12)
    model.preprocessor = pretrained.ImagePreprocessor(
        size=12, image_mean=(0.5, 0.25, 0.0), image_std=(1.0, 2.0, 4.0))
    files = {"modality": "image", "image_size": [8, 8], "channels": 3}
    fine_tuned = pretrained.fine_tuning_classifier(
        model, (8, 8, 3), num_classes=3, preprocessor=files)
    normalization = fine_tuned.get_layer("normalize")
    np.testing.assert_allclose(to_numpy(normalization.mean).ravel(),
                               [0.5, 0.25, 0.0])
    np.testing.assert_allclose(to_numpy(normalization.variance).ravel(),
                               [1.0, 4.0, 16.0])
    fine_tuned.save(tmp_path / "fine_tuned.keras")
    restored = keras.saving.load_model(tmp_path / "fine_tuned.keras")
    assert preprocessor_of(restored).get_config() == files


def test_fine_tuning_needs_an_image_classifier():
    language = pretrained.load_checkpoint(tiny_hf_model(MASKED_LM))
    with pytest.raises(ValueError, match="image classifier"):
        pretrained.fine_tuning_classifier(language, (8, 8, 1), 3)
    model = pretrained.load_checkpoint(tiny_hf_model(FOURIER), image_size=12)
    with pytest.raises(ValueError, match="input_shape"):
        pretrained.fine_tuning_classifier(model, (8, 8, 2), 3)
