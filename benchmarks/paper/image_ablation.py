"""The image task the architecture ablations share: CIFAR-10 in 2x2 patches.

The placement and weight-sharing experiments train variants of one small
Perceiver (N = 64, D = 128, B = 4 cross-attends, L = 1 self-attention
layer per block, 4 self-attention heads) on the 10,000 CIFAR-10 training
images of ../shared/data in 2x2 patches (256 inputs, 16 Fourier bands per
axis), and test on the full 10,000-image test set, several seeds each.
A variant is a dict of `Perceiver` arguments that differ from that model.
Both experiments log their runs under the same keys, so a variant they
share (the paper's default: interleaved, the paper's sharing) is trained
once.
"""

from benchmarks.paper import experiment
from keras_perceiver import Perceiver
from keras_perceiver import datasets
from keras_perceiver.adapters.image_adapter import ImageAdapter

MODEL = dict(num_latents=64, latent_dim=128, num_blocks=4,
             num_self_attends_per_block=1, num_self_heads=4)
FULL = dict(train_examples=10_000, test_examples=None, epochs=8,
            seeds=(0, 1, 2), patch_size=2, num_bands=16, model=MODEL,
            timed_steps=20, data_dir=str(experiment.DATA_DIR / "cifar10"))
QUICK = dict(train_examples=128, test_examples=64, epochs=1, seeds=(0, 1),
             patch_size=4, num_bands=2, timed_steps=1,
             model=dict(num_latents=8, latent_dim=16, num_blocks=3,
                        num_self_attends_per_block=1, num_self_heads=2),
             data_dir=str(experiment.DATA_DIR / "cifar10"))


def load(settings):
    """`(train, test)`: the settings' share of CIFAR-10."""
    data = datasets.load("cifar10", data_dir=settings["data_dir"])
    return (
        experiment.subset(data.x_train, data.y_train,
                          settings["train_examples"]),
        experiment.subset(data.x_test, data.y_test,
                          settings["test_examples"]),
    )


def build(settings, variant):
    """The ablation Perceiver with `variant`'s arguments."""
    return Perceiver(
        num_classes=10,
        input_adapter=ImageAdapter(patch_size=settings["patch_size"],
                                   num_bands=settings["num_bands"]),
        **{**settings["model"], **variant},
    )


def run_variant(variant, settings, runs, data):
    """Every seed of one variant: a list of `fit_and_test` results."""
    name = ", ".join(f"{key}={value}" for key, value in sorted(
        variant.items()))
    return [
        runs.get_or_run(
            f"cifar10 2x2 patches/{name}/seed {seed}",
            lambda checkpoints, seed=seed: experiment.fit_and_test(
                lambda: build(settings, variant), *data, settings["epochs"],
                seed=seed, checkpoint_directory=checkpoints))
        for seed in settings["seeds"]
    ]


def step_times(variants, settings, data):
    """Milliseconds per training step of each variant (a dict from name to
    variant), timed side by side on one training batch."""
    (x_train, y_train), _ = data
    batch = (x_train[:experiment.BATCH_SIZE], y_train[:experiment.BATCH_SIZE])
    return experiment.step_times_side_by_side(
        {name: lambda variant=variant: build(settings, variant)
         for name, variant in variants.items()},
        batch, settings["timed_steps"],
    )


def task_description(settings):
    model = settings["model"]
    return (
        f"CIFAR-10, {settings['train_examples']:,} training images in "
        f"{settings['patch_size']}x{settings['patch_size']} patches, "
        f"{settings['epochs']} epochs, batch {experiment.BATCH_SIZE}, "
        f"seeds {list(settings['seeds'])}; Perceiver N = "
        f"{model['num_latents']}, D = {model['latent_dim']}, B = "
        f"{model['num_blocks']}, L = "
        f"{model['num_self_attends_per_block']}, float32."
    )
