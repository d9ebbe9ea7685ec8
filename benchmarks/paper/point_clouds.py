"""Point clouds: ModelNet40 to 80 % test accuracy with the paper's settings.

ModelNet40 (the official 9,843 / 2,468 split, 1,024 points per shape, in
random order) with the paper's point-cloud settings where they fit this
machine: Fourier features of xyz with 64 bands and maximum resolution
1120, 2 cross-attends, 6 self-attention layers per block. To fit the
2-core budget the model is N = 128, D = 128 with cross-attention
queries and keys of 64 channels (the byte array has 390), and each
training step reads a random 512 of each shape's points, scaled and
jittered (`PointCloudAdapter`'s augmentation), in mixed bfloat16 (1.6x
float32's speed on the torch backend here) for 20 epochs; the test reads
the first 512 points (a random subset) and, with the same weights, all
1,024.
The test accuracy after every epoch is recorded (nothing is selected on
it), to show what more epochs would add.

    python -m benchmarks.paper point_clouds
"""

import keras
import numpy as np

from benchmarks.paper import experiment
from keras_perceiver import Perceiver
from keras_perceiver import datasets
from keras_perceiver.adapters.point_cloud_adapter import PointCloudAdapter
from keras_perceiver.modalities.point_cloud import (
    POINT_CLOUD_AUGMENTATION,
    POINT_CLOUD_MAX_RESOLUTION,
)
from keras_perceiver.reports.tables import markdown_table

DESCRIPTION = "Point clouds: ModelNet40 with the paper's settings"
MODEL = dict(num_latents=128, latent_dim=128, num_blocks=2,
             num_self_attends_per_block=6, num_self_heads=4,
             cross_qk_channels=64)
SETTINGS = {
    "full": dict(epochs=20, batch_size=32, num_bands=64, train_points=512,
                 dtype_policy="mixed_bfloat16",
                 test_points=(512, 1024), model=MODEL,
                 max_train_examples=None, max_test_examples=None,
                 data_dir=str(experiment.DATA_DIR / "modelnet40")),
    "quick": dict(epochs=2, batch_size=16, num_bands=4, train_points=64,
                  dtype_policy="mixed_bfloat16",
                  test_points=(64, 128),
                  model=dict(num_latents=8, latent_dim=16, num_blocks=2,
                             num_self_attends_per_block=1, num_self_heads=2,
                             cross_qk_channels=8),
                  max_train_examples=96, max_test_examples=48,
                  data_dir=str(experiment.DATA_DIR / "modelnet40")),
}


def build(settings, num_classes, num_points):
    """The ModelNet40 Perceiver reading `num_points` points per shape."""
    return Perceiver(
        num_classes=num_classes,
        input_adapter=PointCloudAdapter(
            num_bands=settings["num_bands"],
            max_resolution=POINT_CLOUD_MAX_RESOLUTION,
            num_points=num_points, seed=0, **POINT_CLOUD_AUGMENTATION),
        **settings["model"],
    )


def run(settings, runs):
    # The experiment runs in a process of its own (`python -m
    # benchmarks.paper`), so the global policy reaches only its models.
    keras.config.set_dtype_policy(settings["dtype_policy"])
    data = datasets.load("modelnet40", data_dir=settings["data_dir"])
    train = experiment.subset(data.x_train, data.y_train,
                              settings["max_train_examples"])
    test = experiment.subset(data.x_test, data.y_test,
                             settings["max_test_examples"])

    def test_with_more_points(model):
        """Test accuracy of the trained weights reading each number of
        test points."""
        accuracies = {}
        for points in settings["test_points"]:
            copy = build(settings, data.num_classes, points)
            copy(test[0][:1])
            copy.set_weights(model.get_weights())
            predictions = copy.predict(test[0], batch_size=64, verbose=0)
            accuracies[str(points)] = float(np.mean(
                predictions.argmax(-1) == test[1]))
        return {"test_accuracy_by_points": accuracies,
                "dtype_policy": settings["dtype_policy"]}

    return runs.get_or_run(
        "modelnet40/paper settings",
        lambda checkpoints: experiment.fit_and_test(
            lambda: build(settings, data.num_classes,
                          settings["train_points"]),
            train, test, settings["epochs"],
            batch_size=settings["batch_size"], measure=test_with_more_points,
            curve_data=test, checkpoint_directory=checkpoints))


def render(results):
    by_points = results["test_accuracy_by_points"]
    curve = results["curve_accuracy"]
    best_epoch = int(np.argmax(curve)) + 1
    rows = [[f"{points} test points", f"{results['parameters']:,}",
             results["epochs"], experiment.percent(accuracy),
             f"{results['train_seconds'] / 60:.0f}"]
            for points, accuracy in by_points.items()]
    return "\n".join([
        markdown_table(["ModelNet40", "parameters", "epochs",
                        "test accuracy", "training (min)"], rows), "",
        f"Trained and tested in {results['dtype_policy']}.",
        f"Test accuracy ({next(iter(by_points))} points) after each epoch: "
        f"{', '.join(f'{100 * a:.1f}' for a in curve)} %; highest "
        f"{experiment.percent(max(curve))} after epoch {best_epoch}. "
        f"Training accuracy in the last epoch: "
        f"{experiment.percent(results['train_accuracy'][-1])}.",
    ])


def plot(results, figure):
    axis = figure.subplots()
    epochs = np.arange(1, len(results["curve_accuracy"]) + 1)
    axis.plot(epochs, 100 * np.array(results["train_accuracy"]),
              label="training (augmented)")
    axis.plot(epochs, 100 * np.array(results["curve_accuracy"]),
              label=f"test, {next(iter(results['test_accuracy_by_points']))}"
                    " points")
    axis.axhline(80, color="grey", linestyle=":", label="aim, 80 %")
    axis.set_xlabel("epoch")
    axis.set_ylabel("accuracy (%)")
    axis.set_title("ModelNet40")
    axis.legend()
