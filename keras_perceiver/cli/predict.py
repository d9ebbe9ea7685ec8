"""`keras-perceiver predict`: class predictions of a saved model.

One syntax, `predict MODEL INPUT...`: the top classes of raw files (images,
WAV audio, point clouds, sequences, or the files in folders), read as the
model's training data were; or, with `--input`, `--dataset` or `--data`
instead of files, the predicted class of each example of an array or a
data set's test split. With `--checkpoint NAME IMAGE...`, the top classes
of image files under a Hugging Face Perceiver image checkpoint; with
`--checkpoint FLOW_CHECKPOINT FRAME1 FRAME2`, the optical flow between two
frames, written as a colour-coded PNG. With `MODEL --prompt TEXT`, a
`PerceiverCausalLM`'s continuation of the text.
"""

import pathlib

from keras_perceiver.cli.checkpoint_options import load_image_checkpoint
from keras_perceiver.cli.dataset_options import load_dataset
from keras_perceiver.cli.main import (
    CommandError,
    check_positive_ints,
    library_errors,
)
from keras_perceiver.cli.model_file import load_keras_model
from keras_perceiver.cli.predict_options import (
    USAGE,
    add_predict_arguments,
    check_file_arguments,
    check_output_path,
    model_and_inputs,
)

FLOW_ARCHITECTURE = "PerceiverForOpticalFlow"
DEFAULT_FLOW_IMAGE = "flow.png"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="predict classes with a saved model",
        description="Print the top classes of files (or of the files in "
        "folders) of the model's modality, read as in training; or the "
        "predicted class of each example of a .npy array, a .npz file of "
        "named arrays (dict inputs such as {'inputs', 'mask'}) or the test "
        "split of a data set; or, with --checkpoint, the top classes of "
        "image files under a Hugging Face Perceiver image checkpoint; or, "
        "with an optical-flow --checkpoint and two frames, the flow between "
        "them as a colour-coded PNG (--output, default flow.png); or, with "
        "--prompt, a PerceiverCausalLM's continuation of the text.",
        usage="%(prog)s MODEL FILE_OR_FOLDER [FILE_OR_FOLDER ...] "
        "[options]\n"
        "       %(prog)s MODEL (--input FILE | --dataset NAME | --data "
        "SOURCE) [options]\n"
        "       %(prog)s --checkpoint NAME_OR_FOLDER IMAGE [IMAGE ...]\n"
        "       %(prog)s --checkpoint FLOW_CHECKPOINT FRAME1 FRAME2 "
        "[--output FLOW.png]\n"
        "       %(prog)s MODEL --prompt TEXT [--max-new-tokens N] "
        "[--sampler greedy|top_k|top_p]",
    )
    add_predict_arguments(parser)
    parser.set_defaults(run=run)


def run(args):
    check_positive_ints(args, "batch_size")
    check_output_path(args.output)
    with library_errors():
        if args.prompt is not None:
            return predict_text(args)
        if args.checkpoint:
            return predict_checkpoint(args)
        model_path, inputs = model_and_inputs(args)
        if inputs:
            return predict_files(args, model_path, inputs)
        return predict_examples(args, model_path)


def predict_examples(args, model_path):
    """Prints (and with --output writes) the class of each example."""
    import keras

    from keras_perceiver.datasets.example_files import load_examples
    from keras_perceiver.models.class_ranking import (
        class_names_of,
        class_probabilities,
    )
    from keras_perceiver.reports.prediction_tables import write_predictions

    model = load_keras_model(model_path)
    if args.dataset or args.data:
        dataset = load_dataset(args, model=model)
        inputs, _ = dataset.first_examples(dataset.num_test_examples, "test")
    else:
        inputs = load_examples(args.input)
    if len(keras.tree.flatten(inputs)[0]) == 0:
        raise CommandError("no examples to predict: the input is empty")
    probabilities = class_probabilities(model, inputs,
                                        batch_size=args.batch_size)
    names = class_names_of(model, probabilities.shape[-1])
    classes = probabilities.argmax(axis=-1)
    for index, label in enumerate(classes[:10]):
        print(f"example {index}: class {names[label]} "
              f"(p={probabilities[index, label]:.3f})")
    if len(classes) > 10:
        print(f"... {len(classes)} predictions in all")
    if args.output:
        write_predictions(args.output, probabilities)
        print(f"Wrote {args.output}")


def predict_text(args):
    """Prints a causal language model's continuation of --prompt."""
    from keras_perceiver.models import PerceiverCausalLM

    paths = ([args.model] if args.model else []) + list(args.paths)
    if (len(paths) != 1 or args.checkpoint or args.input or args.dataset
            or args.data):
        raise CommandError(
            "--prompt takes the model alone: predict MODEL --prompt TEXT"
        )
    model = load_keras_model(paths[0])
    if not isinstance(model, PerceiverCausalLM):
        raise CommandError(
            f"--prompt needs a PerceiverCausalLM; {paths[0]} holds a "
            f"{type(model).__name__}"
        )
    rest = model.max_context - len(args.prompt.encode())
    print(model.generate(
        args.prompt, max_new_tokens=args.max_new_tokens or max(rest, 1),
        sampler=args.sampler, temperature=args.temperature,
        top_k=args.top_k, top_p=args.top_p, seed=args.seed,
    ))


def predict_checkpoint(args):
    """Prints the top classes of each image file under a checkpoint."""
    check_file_arguments(args)
    if args.model:
        raise CommandError("give --model or --checkpoint, not both")
    if not args.paths:
        raise CommandError(USAGE)
    for path in args.paths:
        if not pathlib.Path(path).is_file():
            raise CommandError(f"image file not found: {path}")
    from keras_perceiver import pretrained
    from keras_perceiver.modalities.image import load_image_file

    if pretrained.checkpoint_architecture(args.checkpoint) == (
        FLOW_ARCHITECTURE
    ):
        return predict_flow(args)

    # Pillow alone reads images for a checkpoint: no TensorFlow needed.
    readable = readable_files(args.paths, "image", args.skip_bad_files,
                              inspect=load_image_file)
    model = load_image_checkpoint(args)
    classify_files(args, model, model.preprocessor, readable)


def predict_flow(args):
    """Writes the colour-coded flow from the first frame to the second
    under an optical-flow checkpoint."""
    from keras_perceiver import pretrained
    from keras_perceiver.reports import save_flow_image

    output = args.output or DEFAULT_FLOW_IMAGE
    if pathlib.Path(output).suffix.lower() != ".png":
        raise CommandError(
            f"--output {output}: the flow is written as a picture; give a "
            ".png file"
        )
    check_output_path(output)
    if args.image_size is not None:
        raise CommandError(
            "--image-size does not apply to optical flow: the flow is "
            "computed at the frames' own size"
        )
    frames = pretrained.load_flow_frames(args.paths)
    model = pretrained.load_checkpoint(args.checkpoint,
                                       image_size=frames.shape[2:4])
    flow = model.predict(frames, verbose=0)[0]
    lengths = (flow ** 2).sum(axis=-1) ** 0.5
    print(f"{args.paths[0]} -> {args.paths[1]}: mean displacement "
          f"{lengths.mean():.2f} pixels, largest {lengths.max():.2f}")
    save_flow_image(flow, output)
    print(f"Wrote {output}")


def readable_files(paths, modality, skip_bad_files, inspect=None):
    """The files of `paths` that can be read as `modality`.

    Raises CommandError naming the first unreadable file, unless
    `skip_bad_files`: then those are left out, and counted in one line.
    `inspect` checks one file (`file_inputs.inspect_files`).
    """
    from keras_perceiver.datasets import file_inputs

    readable, _, skipped = file_inputs.inspect_files(
        paths, modality, skip_bad_files, inspect)
    if not readable:
        raise CommandError("no readable files to classify")
    if skipped:
        print(f"Skipped {len(skipped)} unreadable files (the first: "
              f"{skipped[0]})")
    return readable


def print_top_classes(paths, results):
    """Prints each path with its `[(class name, probability)]`, best first."""
    for path, top in zip(paths, results):
        print(f"{path}:")
        for rank, (name, probability) in enumerate(top, start=1):
            print(f"  {rank}. {name} ({probability:.3f})")


def predict_files(args, model_path, inputs):
    """Prints (and with --output writes) the top classes of raw files,
    read by the model's preprocessor."""
    from keras_perceiver import modalities
    from keras_perceiver.datasets import file_inputs
    from keras_perceiver.datasets.example_files import files_to_classify
    from keras_perceiver.preprocessing.preprocessor import preprocessor_of

    model = load_keras_model(model_path)
    preprocessor = preprocessor_of(model)
    if preprocessor is None:
        raise CommandError(
            f"{model_path} does not record how to read files: train it with "
            "--data on a folder or a TFDS data set"
        )
    modality = preprocessor.modality
    if not file_inputs.file_extensions(modality):
        readable = modalities.listed(
            [kind.plural for kind in modalities.with_files()], "and"
        )
        raise CommandError(
            f"{model_path} takes {modality} data, not files (predict reads "
            f"files of {readable}); classify its data with: predict "
            f"{model_path} --data SOURCE"
        )
    paths = readable_files(files_to_classify(inputs, modality), modality,
                           args.skip_bad_files, preprocessor.inspect)
    classify_files(args, model, preprocessor, paths)


def classify_files(args, model, preprocessor, paths):
    """Prints the top classes of `paths`, read by `preprocessor`, a batch
    at a time; with --output writes them too."""
    from keras_perceiver.models.class_ranking import (
        class_names_of,
        class_probabilities,
        top_classes,
    )

    results = []
    for start in range(0, len(paths), args.batch_size):
        batch = paths[start:start + args.batch_size]
        probabilities = class_probabilities(model, preprocessor(batch),
                                            batch_size=args.batch_size)
        names = class_names_of(model, probabilities.shape[-1])
        results += top_classes(probabilities, names, args.top_k)
        print_top_classes(batch, results[start:])
    write_top_classes_to(args.output, paths, results)


def write_top_classes_to(output, paths, results):
    """With --output, writes the top classes there and says so."""
    from keras_perceiver.reports.prediction_tables import write_top_classes

    if output:
        write_top_classes(output, paths, results)
        print(f"Wrote {output}")
