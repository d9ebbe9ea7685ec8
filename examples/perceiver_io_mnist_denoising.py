"""Perceiver IO on MNIST: a clean image decoded from a noisy one, per pixel.

The encoder reads the noisy digit in 2x2 patches (196 inputs) into 64
latents, with Perceiver IO's block scheme (one cross-attend, then the
latent Transformer applied twice with the same weights). The decoder asks
one query per output pixel, the Fourier features of its position on the
28x28 grid, and gives each pixel its clean value: a dense output that a
classifier's head cannot give. Noise: Gaussian, standard deviation 0.5,
clipped to [0, 1], drawn anew for every training batch and fixed (seed 0)
for the test set. Prints the test PSNR of the noisy and the denoised
images against the clean ones, and writes them (with a picture of eight
test digits) to `--output-dir`.

    KERAS_BACKEND=torch python examples/perceiver_io_mnist_denoising.py \\
        --mixed-precision --epochs 3
"""

import json
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf
from common import parse_args, provenance

import keras_perceiver as kp
from keras_perceiver import layers

NOISE_STDDEV = 0.5


def add_noise(images, stddev, seed=None):
    noise = tf.random.normal(tf.shape(images), stddev=stddev, seed=seed)
    return tf.clip_by_value(images + noise, 0.0, 1.0)


def psnr(images, clean):
    mse = np.mean((images - clean) ** 2, axis=(1, 2, 3))
    return float(np.mean(10 * np.log10(1.0 / mse)))


def build_model():
    encoder = kp.PerceiverEncoder(
        num_latents=64, latent_dim=128, num_blocks=2,
        num_self_attends_per_block=2, num_self_heads=4,
        block_scheme="perceiver_io",
        input_adapter=kp.adapters.ImageAdapter(num_bands=16, patch_size=2),
    )
    return kp.PerceiverIO(
        encoder,
        output_queries=layers.FourierQueries((28, 28), num_bands=16),
        decoder=layers.PerceiverDecoder(
            num_output_channels=1, use_query_residual=False
        ),
    )


def save_picture(noisy, denoised, clean, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (("noisy", noisy), ("Perceiver IO", denoised), ("clean", clean))
    figure, axes = plt.subplots(3, 8, figsize=(8, 3.4))
    for row, (title, images) in enumerate(rows):
        for column in range(8):
            axis = axes[row, column]
            axis.imshow(np.clip(images[column, ..., 0], 0, 1), cmap="gray")
            axis.set_xticks([])
            axis.set_yticks([])
        axes[row, 0].set_ylabel(title, fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main():
    args = parse_args(__doc__, "mnist", epochs=3, batch_size=64)
    data = kp.datasets.load("mnist", data_dir=args.data_dir)
    x_train = data.x_train.astype("float32")
    x_test = data.x_test.astype("float32")
    train = (
        tf.data.Dataset.from_tensor_slices(x_train)
        .shuffle(10_000, seed=0)
        .batch(args.batch_size)
        .map(lambda clean: (add_noise(clean, NOISE_STDDEV), clean))
        .prefetch(tf.data.AUTOTUNE)
    )
    tf.random.set_seed(0)
    noisy_test = add_noise(x_test, NOISE_STDDEV, seed=0).numpy()
    model = build_model()
    steps = int(train.cardinality()) * args.epochs
    model.compile(
        optimizer=keras.optimizers.AdamW(
            kp.training.warmup_cosine_decay(args.learning_rate, steps),
            clipnorm=1.0,
        ),
        loss="mse",
    )
    started = time.perf_counter()
    model.fit(train, epochs=args.epochs)
    seconds = time.perf_counter() - started
    denoised = model.predict(noisy_test, batch_size=256, verbose=0)
    results = {
        "test_psnr_noisy_db": psnr(noisy_test, x_test),
        "test_psnr_denoised_db": psnr(denoised, x_test),
        "test_mse_denoised": float(np.mean((denoised - x_test) ** 2)),
        "epochs": args.epochs,
        "training_seconds": round(seconds),
        "parameters": model.count_params(),
        "backend": keras.config.backend(),
        "dtype_policy": keras.config.dtype_policy().name,
        **provenance(),
    }
    print(json.dumps({key: value for key, value in results.items()
                      if key not in ("machine", "lscpu_flags")}))
    output = pathlib.Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    (output / "mnist_denoising_metrics.json").write_text(
        json.dumps(results, indent=2) + "\n"
    )
    save_picture(noisy_test, denoised, x_test,
                 output / "mnist_denoising.png")


if __name__ == "__main__":
    main()
