"""A Perceiver on MNIST digits, fed by a tf.data pipeline.

The model takes the 28x28 images directly and concatenates 2-D Fourier
features of the pixel positions (784 inputs of 1 + 2 * (2 * 16 + 1) = 67
channels).

    KERAS_BACKEND=jax python examples/mnist_images.py --epochs 5
"""

import tensorflow as tf
from common import compile_fit_evaluate, parse_args

import keras_perceiver as kp

args = parse_args(__doc__, "mnist", epochs=5, batch_size=64)
data = kp.datasets.load("mnist", data_dir=args.data_dir)
train = (
    tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train))
    .shuffle(10_000, seed=0)
    .batch(args.batch_size)
    .prefetch(tf.data.AUTOTUNE)
)
model = kp.Perceiver(
    num_classes=10, num_latents=64, latent_dim=128, num_blocks=2,
    num_self_attends_per_block=2, num_self_heads=4, num_bands=16,
    max_resolution=28,
)
compile_fit_evaluate(model, data, args, train=train)
