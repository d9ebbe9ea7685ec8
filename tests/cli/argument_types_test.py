"""NumPy numbers are numbers; mismatched batches are ValueErrors."""

import json

import numpy as np
import pytest

from keras_perceiver import adapters
from support import tiny_perceiver, to_numpy


def test_numpy_integers_are_accepted_and_configs_stay_json():
    model = tiny_perceiver(num_latents=np.int64(8), num_blocks=np.int32(2),
                           dropout=np.float32(0.0))
    logits = model(np.zeros((2, 8, 8, 2), "float32"))
    assert to_numpy(logits).shape == (2, 5)
    config = model.get_config()
    assert config["num_latents"] == 8 and type(config["num_latents"]) is int
    json.dumps(config)


def test_modalities_with_different_batch_sizes_are_a_value_error():
    adapter = adapters.MultimodalAdapter({
        "audio": adapters.AudioAdapter(patch_size=8, num_bands=2),
        "points": adapters.PointCloudAdapter(num_bands=2),
    })
    inputs = {"audio": np.zeros((2, 32), "float32"),
              "points": np.zeros((3, 10, 3), "float32")}
    with pytest.raises(ValueError, match="same batch size.*'audio': 2"):
        adapter(inputs)
