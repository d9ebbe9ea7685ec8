"""`keras-perceiver evaluate`: test accuracy of a saved model."""

from keras_perceiver.cli.dataset_options import (
    add_dataset_arguments,
    load_dataset,
)
from keras_perceiver.cli.main import (
    CommandError,
    check_positive_ints,
    first_line,
)
from keras_perceiver.cli.model_file import load_keras_model


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "evaluate", help="evaluate a saved model on a data set's test split"
    )
    parser.add_argument("model", help="a .keras file written by `train`")
    add_dataset_arguments(parser)
    parser.add_argument("--batch-size", type=int, default=64,
                        help="examples per batch")
    parser.set_defaults(run=run)


def run(args):
    from keras_perceiver.training import compile_for_evaluation, evaluate

    check_positive_ints(args, "batch_size")
    model = compile_for_evaluation(load_keras_model(args.model))
    dataset = load_dataset(args, model=model)
    try:
        loss, accuracy = evaluate(model, dataset, args.batch_size,
                                  verbose="auto")
    except ValueError as error:  # data the model was not built for
        raise CommandError(first_line(error)) from None
    print(f"{dataset.name} test accuracy {accuracy:.4f}, loss {loss:.4f}")
