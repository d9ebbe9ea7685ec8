import pytest

import keras_perceiver as kp
from keras_perceiver.reports import flops
from support import IMAGENET_PERCEIVER



def test_imagenet_forward_flops_match_the_paper():
    # Built only: no forward pass at this size.
    model = kp.Perceiver(**IMAGENET_PERCEIVER)
    gflops = flops.perceiver_forward_flops(model, (224, 224, 3)) / 1e9
    assert abs(gflops - 707) < 3


def test_weight_sharing_does_not_change_flops():
    # Four blocks of two self-attends (the paper's sharing: cross-attends
    # 2-4 share one set of weights, the latent Transformer is shared by all
    # blocks) at a size that builds in milliseconds.
    config = dict(num_classes=10, num_latents=16, latent_dim=32,
                  num_blocks=4, num_self_attends_per_block=2,
                  num_self_heads=4, num_bands=4)
    shared = kp.Perceiver(**config)
    unshared = kp.Perceiver(**config, weight_sharing="none")
    assert flops.perceiver_forward_flops(
        shared, (16, 16, 3)
    ) == flops.perceiver_forward_flops(unshared, (16, 16, 3))
    assert shared.count_params() < unshared.count_params()


def test_flops_are_linear_in_the_number_of_inputs():
    def count(num_inputs):
        model = kp.Perceiver(num_classes=10, num_latents=16, latent_dim=32,
                             num_blocks=2, num_self_attends_per_block=1,
                             num_self_heads=4)
        return flops.perceiver_forward_flops(model, (num_inputs, 8))

    assert count(300) - count(200) == count(200) - count(100) > 0


def test_small_model_counted_by_hand():
    # N=4, D=8, M=10, C=6, B=1, L=1, 3 classes, qk = v = C (cross), D (self).
    model = kp.Perceiver(num_classes=3, num_latents=4, latent_dim=8,
                         num_blocks=1, num_self_attends_per_block=1,
                         num_self_heads=2)
    cross = 2 * (4 * 8 * 6 + 2 * 10 * 6 * 6 + 2 * 4 * 10 * 6
                 + 4 * 6 * 8 + 2 * 4 * 8 * 8)
    self_attend = 2 * (4 * 4 * 8 * 8 + 2 * 4 * 4 * 8 + 2 * 4 * 8 * 8)
    head = 2 * 8 * 3
    assert flops.perceiver_forward_flops(model, (10, 6)) == (
        cross + self_attend + head
    )
    assert flops.training_step_flops(100, batch_size=2) == 600


def test_unbuilt_model_needs_an_input_shape():
    model = kp.Perceiver(num_classes=3, num_latents=4, latent_dim=8)
    with pytest.raises(ValueError, match="input_shape"):
        flops.perceiver_forward_flops(model)
