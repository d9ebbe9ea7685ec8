"""`keras-perceiver export`: a SavedModel, ONNX or LiteRT file from a
`.keras` file."""

import contextlib

from keras_perceiver.cli.main import CommandError, first_line
from keras_perceiver.cli.model_file import load_keras_model


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export a saved model for serving (SavedModel, ONNX, LiteRT)",
        description="Write a TensorFlow SavedModel (signature "
        "'serving_default', dynamic batch size, float32 logits; for image "
        "and audio classifiers also 'serve_raw': uint8 images of any size "
        "or waveforms of any length, giving probabilities and class names) "
        "from a .keras file saved on any backend; or, with --format onnx "
        "or litert, one .onnx or .tflite file of the 'serving_default' "
        "graph, float32 or int8, with the class names and preprocessing "
        "in its metadata. TensorFlow must be installed.",
    )
    parser.add_argument("model", help="a .keras file written by `train`")
    parser.add_argument(
        "output_dir",
        help="the SavedModel directory (the .onnx or .tflite file with "
        "--format onnx or litert)",
    )
    parser.add_argument(
        "--format",
        choices=("saved_model", "onnx", "litert"),
        default="saved_model",
        help="what to write (default: saved_model)",
    )
    parser.add_argument(
        "--quantize",
        choices=("int8",),
        help="dynamic-range int8 quantisation (onnx and litert only)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace OUTPUT_DIR if it is an earlier export (written by "
        "this command); anything else is refused",
    )
    parser.set_defaults(run=run)


def run(args):
    import keras

    from keras_perceiver.export import formats
    from keras_perceiver.export import saved_model
    from keras_perceiver.export import raw_serving

    with one_line_errors():
        formats.check_export_options(args.output_dir, args.format,
                                     args.quantize)
        saved_model.check_export_target(args.output_dir, args.overwrite,
                                        args.format)
    model = load_keras_model(args.model)
    with one_line_errors():
        path = formats.export_model(
            model, args.output_dir, format=args.format,
            quantize=args.quantize, overwrite=args.overwrite,
        )
    specs = keras.tree.flatten(saved_model.serving_input_specs(model))
    inputs = ", ".join(
        f"{spec.name} {spec.dtype} {tuple(spec.shape)}" for spec in specs
    )
    outputs = ", ".join(
        saved_model.serving_output_names(model, args.format))
    print(f"Exported {args.model} to {path}")
    if args.format != "saved_model":
        print(f"Inputs: {inputs} -> {outputs} float32; "
              "class names and preprocessing in its metadata "
              "(keras_perceiver.export.read_metadata)")
        return
    print(f"Signature 'serving_default': {inputs} -> {outputs} float32")
    raw_spec = raw_serving.raw_input_spec(model)
    if raw_spec is not None:
        print(f"Signature '{raw_serving.ENDPOINT_NAME}': {raw_spec.name} "
              f"{raw_spec.dtype} (any size) -> logits, probabilities, "
              "predicted_class, class_names")


@contextlib.contextmanager
def one_line_errors():
    """Turns the export's user errors into a one-line CommandError."""
    try:
        yield
    except (ValueError, FileExistsError, ImportError, RuntimeError) as error:
        raise CommandError(first_line(error)) from None
