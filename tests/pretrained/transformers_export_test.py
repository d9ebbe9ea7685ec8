"""Back to Hugging Face: `save_transformers_checkpoint` against transformers.

The round trip of every covered architecture: a tiny random-weight
transformers model -> keras-perceiver -> one training step -> a folder in
the transformers layout -> `transformers.PerceiverFor...from_pretrained`,
whose logits must match keras-perceiver's to 1e-4; and the same from
`fine_tuning_classifier` with a new number of classes, on every backend.
Then
the models and folders it refuses. Skipped without torch and transformers
(test-only extras).
"""

import json

import keras
import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import transformers  # noqa: E402
from bad_input import assert_value_error  # noqa: E402
from bad_input import unchanged  # noqa: E402
from checkpoint_support import TINY_CHECKPOINTS  # noqa: E402
from checkpoint_support import hf_outputs  # noqa: E402
from checkpoint_support import tiny_hf_model  # noqa: E402
from checkpoint_support import tiny_inputs  # noqa: E402
from support import tiny_perceiver  # noqa: E402
from support import to_numpy  # noqa: E402

import keras_perceiver as kp  # noqa: E402
from keras_perceiver import pretrained  # noqa: E402
from keras_perceiver.pretrained import conversion  # noqa: E402

TOLERANCE = 1e-4
FOURIER = "PerceiverForImageClassificationFourier"
LEARNED = "PerceiverForImageClassificationLearned"


def converted(architecture):
    """A tiny transformers model converted, at the tiny image size."""
    _, kind, size = TINY_CHECKPOINTS[architecture]
    image_size = {"image_size": size} if kind == "image" else {}
    return pretrained.load_checkpoint(tiny_hf_model(architecture),
                                      **image_size)


def train_one_step(model, inputs, labels):
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True))
    model.train_on_batch(inputs, labels)


def keras_inputs(inputs, mask):
    return inputs if mask is None else {"inputs": inputs, "mask": mask}


def transformers_logits(architecture, folder, inputs, mask):
    reloaded = getattr(transformers, architecture).from_pretrained(
        str(folder)).eval()
    return hf_outputs(reloaded, inputs, mask)[0]


# The layout written does not depend on the backend (every architecture's
# conversion runs on every backend in checkpoints_test.py): each
# architecture's round trip runs under torch, which trains cheapest, and
# the fine-tuning classifier's below on every backend.
@pytest.mark.one_backend("torch")
@pytest.mark.parametrize("architecture", list(TINY_CHECKPOINTS))
def test_fine_tuned_model_saves_to_transformers(architecture, tmp_path):
    model = converted(architecture)
    inputs, mask = tiny_inputs(architecture, 2)
    before = to_numpy(model(keras_inputs(inputs, mask)))
    labels = np.argmax(before, axis=-1)[..., ::-1].copy()  # others' classes
    train_one_step(model, keras_inputs(inputs, mask), labels)
    logits = to_numpy(model(keras_inputs(inputs, mask)))
    assert np.abs(logits - before).max() > 1e-3  # the step changed it
    pretrained.save_transformers_checkpoint(model, tmp_path / "saved")
    expected = transformers_logits(architecture, tmp_path / "saved", inputs,
                                   mask)
    print(f"\n{architecture} fine-tuned, saved, read by transformers: max "
          f"|diff| logits {np.abs(logits - expected).max():.2e} "
          f"[{keras.config.backend()}]")
    np.testing.assert_allclose(logits, expected, atol=TOLERANCE)


def test_fine_tuning_classifier_saves_with_its_classes(tmp_path):
    fine_tuned = pretrained.fine_tuning_classifier(
        converted(FOURIER), (8, 8, 1), num_classes=3,
        class_names=["ant", "bee", "cat"])
    images = np.random.default_rng(0).uniform(size=(2, 8, 8, 1))
    train_one_step(fine_tuned, images.astype("float32"), np.array([0, 2]))
    folder = pretrained.save_transformers_checkpoint(fine_tuned,
                                                     tmp_path / "saved")
    with open(f"{folder}/config.json") as file:
        config = json.load(file)
    assert config["num_labels"] == 3
    assert config["id2label"] == {"0": "ant", "1": "bee", "2": "cat"}
    with open(f"{folder}/preprocessor_config.json") as file:
        processor = json.load(file)
    assert processor["do_center_crop"] is False
    assert processor["size"] == {"height": 12, "width": 12}
    # The classifier takes the normalised 12 x 12 images transformers takes.
    classifier = fine_tuned.get_layer("perceiver_io_classifier")
    pixels, _ = tiny_inputs(FOURIER, 2)
    expected = transformers_logits(FOURIER, folder, pixels, None)
    logits = to_numpy(classifier(pixels))
    print(f"\nfine_tuning_classifier, saved, read by transformers: max "
          f"|diff| logits {np.abs(logits - expected).max():.2e} "
          f"[{keras.config.backend()}]")
    np.testing.assert_allclose(logits, expected, atol=TOLERANCE)
    reloaded = pretrained.load_checkpoint(folder)
    assert reloaded.class_names == ["ant", "bee", "cat"]


# Refused models and folders: what is refused does not depend on the
# backend.


@pytest.fixture(scope="module")
def fourier_model():
    return converted(FOURIER)


@pytest.mark.backend_independent
def test_a_folder_written_before_is_replaced_only_with_overwrite(
    fourier_model, tmp_path
):
    folder = pretrained.save_transformers_checkpoint(fourier_model,
                                                     tmp_path / "saved")
    with unchanged(tmp_path):
        assert_value_error(
            lambda: pretrained.save_transformers_checkpoint(fourier_model,
                                                            folder),
            "must not exist or be empty", "overwrite=True")
    pretrained.save_transformers_checkpoint(fourier_model, folder,
                                            overwrite=True)
    assert pretrained.load_checkpoint(folder).class_names == (
        fourier_model.class_names)


@pytest.mark.backend_independent
@pytest.mark.parametrize("overwrite, fragment", [
    (False, "must not exist or be empty"),
    (True, "replaces only a folder that keras-perceiver wrote"),
])
def test_another_folder_is_never_written(fourier_model, tmp_path, overwrite,
                                         fragment):
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "config.json").write_text('{"mine": 1}')
    with unchanged(tmp_path):
        assert_value_error(
            lambda: pretrained.save_transformers_checkpoint(
                fourier_model, tmp_path / "theirs", overwrite=overwrite),
            fragment, "theirs")


@pytest.mark.backend_independent
def test_the_working_folder_is_refused(fourier_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with unchanged(tmp_path):
        assert_value_error(
            lambda: pretrained.save_transformers_checkpoint(
                fourier_model, ".", overwrite=True),
            "working folder")


def built(model):
    model.build((None, 6, 6, 3))
    return model


def fourier_classifier(**encoder_overrides):
    """A Perceiver IO classifier like the Fourier checkpoint's, built."""
    settings = dict(num_latents=4, latent_dim=16, num_blocks=1,
                    num_self_attends_per_block=1, num_self_heads=2,
                    block_scheme="perceiver_io",
                    input_adapter=kp.adapters.ImageAdapter(
                        num_bands=64, max_resolution=224))
    return built(kp.PerceiverIOClassifier(
        kp.PerceiverEncoder(**{**settings, **encoder_overrides}),
        num_classes=2))


@pytest.mark.backend_independent
@pytest.mark.parametrize("model, fragments", [
    (lambda: built(tiny_perceiver()), ("Received: a Perceiver on",)),
    (lambda: fourier_classifier(input_adapter=kp.adapters.ImageAdapter(
        num_bands=8, max_resolution=224)),
     ("cannot be saved in the transformers layout",
      "input_adapter.num_bands=8 (transformers has 64)")),
    (lambda: fourier_classifier(block_scheme="iterative"),
     ("encoder.block_scheme='iterative' (transformers has 'perceiver_io')",)),
    (lambda: fourier_classifier(weight_sharing="none", num_blocks=2),
     ("encoder.weight_sharing='none'",)),
    (lambda: kp.PerceiverIOClassifier(
        kp.PerceiverEncoder(num_latents=4, latent_dim=16, num_blocks=1,
                            num_self_attends_per_block=1, num_self_heads=2),
        num_classes=2),
     ("Only a built model",)),
    (lambda: keras.Sequential([keras.layers.Dense(2)]),
     ("fine_tuning_classifier",)),
], ids=["perceiver", "other-fourier-bands", "iterative-blocks",
        "unshared-blocks", "unbuilt", "not-a-perceiver"])
def test_models_transformers_cannot_express(model, fragments, tmp_path):
    with unchanged(tmp_path):
        assert_value_error(
            lambda: pretrained.save_transformers_checkpoint(
                model(), tmp_path / "saved"),
            *fragments)


@pytest.mark.backend_independent
def test_learned_positions_need_square_images(tmp_path):
    config = tiny_hf_model(LEARNED).config.to_dict()
    model = conversion.build_model(LEARNED, config, (4, 16))
    with unchanged(tmp_path):
        assert_value_error(
            lambda: pretrained.save_transformers_checkpoint(
                model, tmp_path / "saved"),
            "square images", "4 x 16")
