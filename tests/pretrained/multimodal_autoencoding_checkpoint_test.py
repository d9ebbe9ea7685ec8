"""`PerceiverForMultimodalAutoencoding` in keras-perceiver, against transformers.

A tiny random-weight transformers model (2 frames of 8 x 12, 32 audio
samples) is converted; its audio, video and label outputs must match
transformers' to 1e-4, decoding every point and a subset of them, and a
model written back by `save_transformers_checkpoint` must load in
transformers with the same outputs. Skipped without torch and transformers
(test-only extras).
"""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402
import transformers  # noqa: E402
from checkpoint_support import TINY  # noqa: E402
from checkpoint_support import unit_scale  # noqa: E402
from support import to_numpy  # noqa: E402

from keras_perceiver import pretrained  # noqa: E402

TOLERANCE = 1e-4
# 2 frames of 8 x 12 RGB pixels (not square: transformers decodes
# `output_shape`'s height and width, whatever its Fourier resolution),
# 2 x 16 audio samples in patches of 4, 10 classes. The common input width: audio 4 + 2 * 192 + 1 = 389 channels,
# the widest, plus 4 of padding. `image_size` is the video's Fourier
# resolution, neither the frames' side nor the patch grid's (the published
# model has 56 on 224 x 224 frames).
CONFIG = dict(
    TINY, num_frames=2, image_size=6, audio_samples_per_frame=16,
    samples_per_patch=4, output_shape=[1, 2, 8, 12], output_num_channels=8,
    num_labels=10, d_model=393, _label_trainable_num_channels=8,
)
RNG = np.random.default_rng(0)
INPUTS = {
    "video": RNG.uniform(size=(3, 2, 8, 12, 3)).astype("float32"),
    "audio": RNG.normal(size=(3, 32, 1)).astype("float32"),
    "label": np.eye(10, dtype="float32")[[1, 2, 3]],
}
# Every point (the only way transformers decodes this model) and a subset.
POINTS = {
    "all": {"video": np.arange(192), "audio": np.arange(8)},
    "subset": {"video": np.array([5, 77, 3, 191]), "audio": np.array([6, 1])},
}


@pytest.fixture(scope="module")
def hf_model():
    torch.manual_seed(0)
    config = transformers.PerceiverConfig(**CONFIG)
    return unit_scale(
        transformers.PerceiverForMultimodalAutoencoding(config).eval()
    )


@pytest.fixture(scope="module")
def model(hf_model):
    return pretrained.load_checkpoint(hf_model)


def hf_outputs(model, points):
    """transformers' outputs, keyed and shaped as keras-perceiver's."""
    inputs = {
        "image": torch.from_numpy(INPUTS["video"]).permute(0, 1, 4, 2, 3),
        "audio": torch.from_numpy(INPUTS["audio"]),
        "label": torch.from_numpy(INPUTS["label"]),
    }
    subsampled = {"image": torch.from_numpy(points["video"]),
                  "audio": torch.from_numpy(points["audio"])}
    with torch.no_grad():
        logits = model(inputs=inputs,
                       subsampled_output_points=subsampled).logits
    return {"audio": logits["audio"].numpy(),
            "video": logits["image"].numpy(),
            "label": logits["label"].numpy()}


def max_differences(hf_model, model, points):
    expected = hf_outputs(hf_model, points)
    if len(points["video"]) == 192:
        outputs = model(INPUTS)
        outputs["video"] = to_numpy(outputs["video"]).reshape(3, 192, 3)
    else:
        outputs = model(INPUTS, subsampled_output_points=points)
    differences = {}
    for name, value in expected.items():
        value_here = to_numpy(outputs[name])
        assert value_here.shape == value.shape, name
        differences[name] = float(np.abs(value_here - value).max())
    return differences


def test_outputs_match_transformers(hf_model, model):
    for name, points in POINTS.items():
        differences = max_differences(hf_model, model, points)
        print(f"\nmultimodal autoencoding, {name} points: {differences}")
        assert max(differences.values()) <= TOLERANCE


@pytest.mark.backend_independent
def test_a_saved_folder_loads_and_saves_back(hf_model, tmp_path):
    hf_model.save_pretrained(tmp_path / "hf", safe_serialization=True)
    model = pretrained.load_checkpoint(str(tmp_path / "hf"))
    pretrained.save_transformers_checkpoint(model, tmp_path / "back")
    reloaded = transformers.PerceiverForMultimodalAutoencoding.from_pretrained(
        str(tmp_path / "back")).eval()
    differences = max_differences(reloaded, model, POINTS["subset"])
    assert max(differences.values()) <= TOLERANCE


@pytest.mark.backend_independent
def test_a_label_left_out_is_masked_as_transformers_masks_it(model):
    given = to_numpy(model(INPUTS)["label"])
    left_out = {name: INPUTS[name] for name in ("video", "audio")}
    np.testing.assert_allclose(
        to_numpy(model(left_out)["label"]), given, atol=1e-6
    )
