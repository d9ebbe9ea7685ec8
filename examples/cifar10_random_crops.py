"""A Perceiver on CIFAR-10 with random crops and crop-relative positions.

In training each image is cropped to 28x28 at a random place; at test time
the central crop is used. As in the paper, the Fourier features describe
positions relative to the crop, not the full image, so the model cannot
memorise absolute coordinates.

    KERAS_BACKEND=jax python examples/cifar10_random_crops.py --epochs 10
"""

from common import compile_fit_evaluate, parse_args

import keras_perceiver as kp

args = parse_args(__doc__, "cifar10", epochs=10, batch_size=64)
data = kp.datasets.load("cifar10", data_dir=args.data_dir)
adapter = kp.adapters.ImageAdapter(num_bands=16, crop_size=28, seed=0)
model = kp.Perceiver(
    num_classes=10, num_latents=64, latent_dim=128, num_blocks=2,
    num_self_attends_per_block=3, num_self_heads=4, input_adapter=adapter,
)
compile_fit_evaluate(model, data, args)
