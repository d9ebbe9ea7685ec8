"""Permutation invariance against a CNN (the paper's Table 2), in miniature.

On MNIST and CIFAR-10, a Perceiver on pixels and a small convolutional
network of about the same parameter count are each trained and tested on
the original images and on the images under one fixed random permutation
of the pixel positions (the same for every image, training and test).

The Perceiver reads every pixel with the Fourier features of its
*original* position, so a permuted image is the same set of (pixel,
position) elements in another order: the model is invariant by
construction, and its logits on permuted images equal those on the
originals up to float rounding (the experiment measures the largest
difference with the weights trained on the originals). The CNN relies on
neighbouring pixels being neighbours and should drop sharply on permuted
CIFAR-10.

    python -m benchmarks.paper permutation
"""

import keras
import numpy as np

from benchmarks.paper import experiment
from keras_perceiver import Perceiver
from keras_perceiver import datasets
from keras_perceiver.adapters.input_adapter import InputAdapter
from keras_perceiver.layers.fourier_position_encoding import (
    FourierPositionEncoding,
)
from keras_perceiver.reports.tables import markdown_table

DESCRIPTION = ("Permutation invariance (Table 2): Perceiver against a CNN "
               "on original and pixel-permuted MNIST and CIFAR-10")
PERCEIVER = dict(num_latents=64, latent_dim=128, num_blocks=2,
                 num_self_attends_per_block=2, num_self_heads=4)
SETTINGS = {
    "full": dict(datasets=("mnist", "cifar10"), train_examples=10_000,
                 test_examples=None, epochs=10, num_bands=16,
                 cnn_width=32, data_dir=str(experiment.DATA_DIR)),
    "quick": dict(datasets=("mnist",), train_examples=128, test_examples=64,
                  epochs=1, num_bands=2, cnn_width=4,
                  data_dir=str(experiment.DATA_DIR),
                  perceiver=dict(num_latents=8, latent_dim=16, num_blocks=2,
                                 num_self_attends_per_block=1,
                                 num_self_heads=2)),
}
PERMUTATION_SEED = 1234


def pixel_permutation(height, width, seed=PERMUTATION_SEED):
    """One fixed random order of the `height * width` pixel positions."""
    return np.random.default_rng(seed).permutation(height * width)


def permute_pixels(images, permutation):
    """`images` `(n, H, W, C)` with pixel `i` (row-major) moved from
    position `permutation[i]`: the result's pixel `i` is the original's
    pixel `permutation[i]`, for every image alike."""
    n, height, width, channels = images.shape
    flat = images.reshape(n, height * width, channels)[:, permutation]
    return flat.reshape(n, height, width, channels)


@keras.saving.register_keras_serializable(package="benchmarks_paper")
class PixelsAtPositions(InputAdapter):
    """Images to a byte array, each pixel with the Fourier features of the
    position it had before `permutation` moved it.

    With `permutation=None` this is the ordinary pixel-level image
    adapter (each pixel at its own position). Given images permuted by
    `permute_pixels(images, permutation)`, each pixel gets the features of
    its original position, so the byte array is the original's with its
    rows reordered.

    Args:
        image_shape: `(height, width)`.
        num_bands: int. Fourier bands per axis.
        permutation: list of ints or None. The permutation the images
            passed in were permuted with.
        **kwargs: Base layer keyword arguments.
    """

    def __init__(self, image_shape, num_bands, permutation=None, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(size) for size in image_shape)
        self.num_bands = int(num_bands)
        self.permutation = (None if permutation is None
                            else [int(i) for i in permutation])
        encoding = FourierPositionEncoding(num_bands=self.num_bands)
        features = keras.ops.convert_to_numpy(
            encoding.grid_features(self.image_shape))
        if self.permutation is not None:
            features = features[np.asarray(self.permutation)]
        self.position_features = features.astype("float32")

    def call(self, images, mask=None, training=None):
        pixels = keras.ops.reshape(
            images, (-1, self.position_features.shape[0], images.shape[-1]))
        features = keras.ops.broadcast_to(
            keras.ops.cast(self.position_features, pixels.dtype),
            (keras.ops.shape(pixels)[0], *self.position_features.shape),
        )
        return keras.ops.concatenate([pixels, features], axis=-1), None

    def compute_output_shape(self, images_shape):
        channels = images_shape[-1] + self.position_features.shape[1]
        return (images_shape[0], self.position_features.shape[0],
                channels), None

    def get_config(self):
        config = super().get_config()
        config.update(image_shape=self.image_shape, num_bands=self.num_bands,
                      permutation=self.permutation)
        return config


def build_perceiver(image_shape, num_bands, permutation=None, **model):
    """A pixel-level Perceiver classifier for `image_shape` `(H, W, C)`."""
    return Perceiver(
        num_classes=10,
        input_adapter=PixelsAtPositions(image_shape[:2], num_bands,
                                        permutation),
        **{**PERCEIVER, **model},
    )


def build_cnn(image_shape, width=32):
    """A small VGG-style CNN: three stages of two 3x3 convolutions (`width`,
    2 `width`, 4 `width` filters, ReLU, max pooling between stages), global
    average pooling and a linear classifier; about 290,000 parameters at
    width 32 on RGB images."""
    layers = [keras.Input(image_shape)]
    for stage in range(3):
        filters = width * 2 ** stage
        if stage:
            layers.append(keras.layers.MaxPooling2D())
        layers += [keras.layers.Conv2D(filters, 3, padding="same",
                                       activation="relu")
                   for _ in range(2)]
    layers += [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]
    return keras.Sequential(layers)


def load_images(name, settings):
    """`(train, test)` pairs of `(images, labels)` of one data set."""
    data = datasets.load(name, data_dir=f"{settings['data_dir']}/{name}")
    x_train = data.x_train if data.x_train.ndim == 4 else (
        data.x_train[..., None])
    x_test = data.x_test if data.x_test.ndim == 4 else data.x_test[..., None]
    train = experiment.subset(x_train, data.y_train,
                              settings["train_examples"])
    test = experiment.subset(x_test, data.y_test, settings["test_examples"])
    return train, test


def invariance_gap(model, images, permutation, settings):
    """How far `model` (trained on original images) is from invariant.

    A copy with the same weights whose positions follow `permutation`
    classifies the permuted `images`; returns the largest absolute
    difference between the two models' logits, the largest absolute logit
    (for scale) and how many images were compared.
    """
    permuted_model = build_perceiver(
        images.shape[1:], settings["num_bands"], permutation,
        **settings.get("perceiver", {}))
    permuted_model(images[:1])
    permuted_model.set_weights(model.get_weights())
    original = model.predict(images, batch_size=256, verbose=0)
    permuted = permuted_model.predict(
        permute_pixels(images, permutation), batch_size=256, verbose=0)
    return {"max_abs_logit_difference": float(np.max(np.abs(
                original - permuted))),
            "max_abs_logit": float(np.max(np.abs(original))),
            "images": len(images)}


def run_dataset(name, settings, runs):
    """The four runs on one data set: Perceiver and CNN, original and
    permuted; the Perceiver trained on originals is also checked for
    invariance on (up to) 512 test images."""
    train, test = load_images(name, settings)
    image_shape = train[0].shape[1:]
    permutation = pixel_permutation(*image_shape[:2])
    permuted_train = (permute_pixels(train[0], permutation), train[1])
    permuted_test = (permute_pixels(test[0], permutation), test[1])
    runs_to_do = {
        "perceiver/original": (
            lambda: build_perceiver(image_shape, settings["num_bands"],
                                    **settings.get("perceiver", {})),
            train, test,
            lambda model: {"invariance": invariance_gap(
                model, test[0][:512], permutation, settings)}),
        "perceiver/permuted": (
            lambda: build_perceiver(image_shape, settings["num_bands"],
                                    permutation,
                                    **settings.get("perceiver", {})),
            permuted_train, permuted_test, None),
        "cnn/original": (
            lambda: build_cnn(image_shape, settings["cnn_width"]),
            train, test, None),
        "cnn/permuted": (
            lambda: build_cnn(image_shape, settings["cnn_width"]),
            permuted_train, permuted_test, None),
    }
    return {
        key: runs.get_or_run(
            f"{name}/{key}",
            lambda checkpoints, build=build, fit=fit, held_out=held_out,
            measure=measure: experiment.fit_and_test(
                build, fit, held_out, settings["epochs"], measure=measure,
                checkpoint_directory=checkpoints))
        for key, (build, fit, held_out, measure) in runs_to_do.items()
    }


def run(settings, runs):
    return {name: run_dataset(name, settings, runs)
            for name in settings["datasets"]}


def render(results):
    rows = []
    for name, result in results.items():
        for model in ("perceiver", "cnn"):
            original = result[f"{model}/original"]
            permuted = result[f"{model}/permuted"]
            change = permuted["test_accuracy"] - original["test_accuracy"]
            rows.append([
                name, model, f"{original['parameters']:,}",
                experiment.percent(original["test_accuracy"]),
                experiment.percent(permuted["test_accuracy"]),
                f"{100 * change:+.1f}",
                f"{original['seconds_per_step'] * 1000:.0f}",
            ])
    invariance = []
    for name, result in results.items():
        gap = result["perceiver/original"]["invariance"]
        invariance.append(
            f"- {name}: largest |logit difference| between original and "
            f"permuted test images, same trained weights: "
            f"{gap['max_abs_logit_difference']:.2g} (largest |logit| "
            f"{gap['max_abs_logit']:.2g}, {gap['images']} images)")
    return "\n".join([
        markdown_table(
            ["data set", "model", "parameters", "original", "permuted",
             "change (points)", "ms per step"], rows),
        "", "Invariance by construction (float32):", "", *invariance,
    ])


def plot(results, figure):
    axes = figure.subplots(1, len(results), squeeze=False)[0]
    for axis, (name, result) in zip(axes, results.items()):
        positions = np.arange(2)
        for offset, view in ((-0.2, "original"), (0.2, "permuted")):
            accuracies = [100 * result[f"{m}/{view}"]["test_accuracy"]
                          for m in ("perceiver", "cnn")]
            axis.bar(positions + offset, accuracies, width=0.4, label=view)
        axis.set_xticks(positions, ["Perceiver", "CNN"])
        axis.set_ylabel("test accuracy (%)")
        axis.set_title(name)
        axis.legend()
