"""The one batch every model in the throughput comparison is timed on."""

import numpy as np


def make_batch(config, seed=0):
    """Uniform images `(batch, H, W, C)` in [0, 1) and integer labels."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(size=(config["batch_size"],) + config["image_shape"])
    labels = rng.integers(0, config["num_classes"], config["batch_size"])
    return images.astype("float32"), labels.astype("int32")
