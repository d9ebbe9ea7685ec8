"""A Perceiver on ModelNet40 point clouds (1,024 points per shape).

The PointCloudAdapter uses the xyz coordinates themselves as positions:
Fourier features with the paper's max resolution of 1120, no grid. The
cross-attention does not depend on the order of the points. Training is
augmented: each step sees a random 512 of each shape's 1,024 points, each
axis scaled by a random factor in [0.8, 1.25] and the coordinates jittered;
the test uses the first 512 points (a random subset: the file stores the
points in random order).

    KERAS_BACKEND=jax python examples/modelnet40_point_clouds.py --epochs 20
"""

from common import compile_fit_evaluate, parse_args

import keras_perceiver as kp

args = parse_args(__doc__, "modelnet40", epochs=20, batch_size=32)
data = kp.datasets.load("modelnet40", data_dir=args.data_dir)
adapter = kp.adapters.PointCloudAdapter(
    num_bands=64, max_resolution=1120, num_points=512,
    scale_range=(0.8, 1.25), jitter_stddev=0.01, seed=0,
)
model = kp.Perceiver(
    num_classes=data.num_classes, num_latents=128, latent_dim=128,
    num_blocks=2, num_self_attends_per_block=3, num_self_heads=4,
    input_adapter=adapter,
)
compile_fit_evaluate(model, data, args)
