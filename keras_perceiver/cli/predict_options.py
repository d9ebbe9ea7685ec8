"""The options of `keras-perceiver predict`, and the checks that they fit
together before any work."""

import os
import pathlib

from keras_perceiver.cli.checkpoint_options import add_checkpoint_arguments
from keras_perceiver.cli.dataset_options import add_source_arguments
from keras_perceiver.cli.main import CommandError

USAGE = ("give the model, then what to predict: predict MODEL "
         "FILE_OR_FOLDER..., predict MODEL --input FILE (or --dataset NAME, "
         "--data SOURCE), or predict --checkpoint NAME IMAGE...")


def add_predict_arguments(parser):
    """Adds what to predict, with which model, and where to `parser`."""
    parser.add_argument(
        "paths", nargs="*", metavar="MODEL INPUT",
        help="a .keras file written by `train`, then the files and folders "
             "to classify (with --checkpoint: the image files alone; with "
             "an optical-flow checkpoint: the two frames)",
    )
    parser.add_argument(
        "--model", default=None,
        help="the .keras file, given as an option instead of first",
    )
    add_checkpoint_arguments(
        parser,
        "a Hugging Face Perceiver image checkpoint (a folder in the Hugging "
        "Face layout, or a Hub id such as deepmind/vision-perceiver-conv) "
        "to classify the image files with, or an optical-flow checkpoint "
        "(deepmind/optical-flow-perceiver) to compute the flow between two "
        "frames with",
    )
    parser.add_argument(
        "--top-k", type=int, default=5,
        help="files: classes printed per file; --prompt with --sampler "
             "top_k: the likeliest bytes drawn from",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--input", help="a .npy or .npz file of examples")
    add_source_arguments(parser, source)
    parser.add_argument(
        "--output", default=None,
        help="CSV file for the predictions, or the PNG of an optical flow "
             "(checked before any work)",
    )
    parser.add_argument("--batch-size", type=int, default=64,
                        help="examples per batch")
    add_prompt_arguments(parser)


def add_prompt_arguments(parser):
    """Adds the options of a causal language model's continuation."""
    parser.add_argument(
        "--prompt", default=None,
        help="with a PerceiverCausalLM .keras file: print its continuation "
             "of this text (see --max-new-tokens, --sampler)",
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=None,
        help="--prompt: bytes to generate (default: the rest of the "
             "model's context)",
    )
    parser.add_argument(
        "--sampler", choices=("greedy", "top_k", "top_p"), default="greedy",
        help="--prompt: the likeliest byte, or a draw from the --top-k "
             "likeliest or from the likeliest --top-p of the probability",
    )
    parser.add_argument("--top-p", type=float, default=0.9,
                        help="--prompt with --sampler top_p: the mass kept")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="--prompt: divides the logits before a draw")
    parser.add_argument("--seed", type=int, default=None,
                        help="--prompt: seed of the draws")


def model_and_inputs(args):
    """The .keras file and the files to classify (none for --input,
    --dataset and --data), or raises CommandError."""
    paths = list(args.paths)
    model_path = args.model or (paths.pop(0) if paths else None)
    if model_path is None:
        raise CommandError(USAGE)
    arrays = args.input or args.dataset or args.data
    if paths:
        check_file_arguments(args)
    elif not arrays:
        raise CommandError(USAGE)
    return model_path, paths


def check_output_path(output):
    """Raises unless the predictions can be written to `output` (or None)."""
    if output is None:
        return
    path = pathlib.Path(output)
    if path.is_dir():
        raise CommandError(f"--output {path} is a directory; give a file")
    if not path.parent.is_dir():
        raise CommandError(
            f"--output {path}: the directory {path.parent} does not exist"
        )
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise CommandError(f"--output {path}: permission denied")


def check_file_arguments(args):
    """Raises unless the options fit classifying files."""
    if args.input or args.dataset or args.data:
        raise CommandError(
            "give files to classify or --input, --dataset or --data, not "
            "both"
        )
    if args.top_k <= 0:
        raise CommandError(
            f"--top-k must be a positive integer, got {args.top_k}"
        )
