"""A Perceiver on MSR Action3D skeleton sequences, cross-subject split.

Each frame is a vector of 60 joint coordinates; sequences are padded (and
masked) or evenly subsampled to 96 frames. The SequenceAdapter adds 1-D
Fourier features of frame time. Training subjects are the odd ones, test
subjects the even ones.

    KERAS_BACKEND=jax python examples/msr_action3d_skeletons.py --epochs 100
"""

from common import compile_fit_evaluate, parse_args

import keras_perceiver as kp

args = parse_args(__doc__, "msr_action3d", epochs=100, batch_size=16)
data = kp.datasets.load("msr_action3d", data_dir=args.data_dir)
model = kp.models.perceiver_for_dataset(
    data, num_bands=16, num_latents=32, latent_dim=64, num_blocks=2,
    num_self_attends_per_block=2, num_self_heads=4, dropout=0.1,
)
compile_fit_evaluate(model, data, args)
