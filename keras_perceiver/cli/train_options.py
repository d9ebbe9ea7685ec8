"""The options of `keras-perceiver train`: the recipe, the run folder and
the devices (the model and data options are shared with other commands)."""

from keras_perceiver.cli.auto_options import AUTO
from keras_perceiver.cli.auto_options import PRECISIONS
from keras_perceiver.cli.auto_options import SWITCHES
from keras_perceiver.cli.auto_options import add_auto_budget_argument
from keras_perceiver.cli.output_options import add_output_dir_arguments
from keras_perceiver.training.defaults import LEARNING_RATE
from keras_perceiver.training.defaults import SCHEDULES
from keras_perceiver.training.defaults import WEIGHT_DECAY
from keras_perceiver.training.run_spec import CHECKPOINTS
from keras_perceiver.training.run_spec import RESULT_FILES

DISTRIBUTIONS = ("data", "model")


def add_run_length_arguments(group):
    """Adds --epochs, --batch-size and --validation-split to `group`: what
    sets the number of training steps of a run."""
    group.add_argument("--epochs", type=int, default=10,
                       help="passes over the training data")
    group.add_argument("--batch-size", type=int, default=64,
                       help="examples per training step")
    group.add_argument(
        "--validation-split", type=float, default=0.1,
        help="share of the training data held out for validation curves",
    )


def add_training_arguments(parser):
    """Adds the training options (`RunSpec`'s fields) to `parser`."""
    training = parser.add_argument_group("training options")
    add_run_length_arguments(training)
    training.add_argument(
        "--learning-rate", type=float, default=LEARNING_RATE,
        help=f"peak learning rate (default: {LEARNING_RATE})",
    )
    training.add_argument(
        "--schedule", choices=SCHEDULES, default="cosine",
        help="cosine: linear warm-up over the first 5 %% of the steps, then "
             "cosine decay to 0; constant: the learning rate throughout "
             "(default: cosine)",
    )
    training.add_argument("--weight-decay", type=float, default=WEIGHT_DECAY,
                          help="AdamW weight decay")
    training.add_argument(
        "--mixed-precision", action="store_true",
        help="train in mixed_bfloat16: faster on GPUs, TPUs and CPUs with "
             "native bfloat16 (AVX512-BF16, AMX); slower than float32 on "
             "other CPUs (20-30x on torch), where a warning says so",
    )
    training.add_argument(
        "--jit-compile", action="store_true",
        help="compile the training step: with XLA on TensorFlow (which "
             "Keras leaves off on CPU-only machines) and on torch with "
             "torch.compile on each repeated block (seconds to compile, "
             "then faster, above all with --mixed-precision); JAX always "
             "compiles it",
    )
    training.add_argument(
        "--precision", choices=(*PRECISIONS, AUTO), default=None,
        help="float32, mixed_bfloat16 (the same as --mixed-precision), or "
             "auto: the faster one measured here (see --backend auto) "
             "(default: float32)",
    )
    training.add_argument(
        "--compile", choices=(AUTO, *SWITCHES), default=None,
        help="on (the same as --jit-compile), off, or auto: compiled if "
             "that was measured faster here for this run's length, the "
             "compilation included (default: off)",
    )
    add_auto_budget_argument(training)
    training.add_argument("--seed", type=int, default=0,
                          help="random seed (weights, shuffling, dropout)")
    add_output_dir_arguments(
        training,
        "where results go; give the directory of a run to resume it "
        "(default: a new runs/<dataset>/<date-time>, which "
        "runs/<dataset>/latest names)",
        RESULT_FILES,
        CHECKPOINTS,
    )
    again = training.add_mutually_exclusive_group()
    again.add_argument(
        "--continue", dest="continue_training", action="store_true",
        help="train the run in --output-dir further, up to --epochs (the "
             "learning-rate schedule is stretched over the new total)",
    )
    again.add_argument(
        "--restart", action="store_true",
        help="delete the results and checkpoints that train wrote in "
             "--output-dir (only those) and train afresh",
    )


def add_device_arguments(parser):
    """Adds --devices and --distribution to `parser`."""
    devices = parser.add_argument_group(
        "devices",
        "train on several devices with the backend's own engine: JAX "
        "keras.distribution, TensorFlow MirroredStrategy (multi-host with "
        "TF_CONFIG), PyTorch DistributedDataParallel under torchrun. "
        "--batch-size is the global batch.",
    )
    devices.add_argument(
        "--devices", type=int, default=None,
        help="number of devices: JAX devices, TensorFlow GPUs (on a CPU, "
             "logical CPU devices), or torch processes (one per GPU; "
             "started with torchrun for you on one host)",
    )
    devices.add_argument(
        "--distribution", choices=DISTRIBUTIONS, default="data",
        help="data: replicate the model, split each batch; model: also "
             "split the latents, attention and MLP weights (JAX only) "
             "(default: data)",
    )
