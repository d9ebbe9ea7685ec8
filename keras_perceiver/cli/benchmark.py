"""`keras-perceiver benchmark`: the table `--backend auto` chooses from.

Measures (or reads from the cache) how fast the model `train` would build
from the same options trains on each backend, precision and compilation
here (`keras_perceiver.performance`), and prints the table, what `auto`
would choose for `--epochs`, and the machine.
"""

from keras_perceiver.cli.auto_options import add_auto_budget_argument
from keras_perceiver.cli.auto_options import check_auto_budget
from keras_perceiver.cli.auto_options import workload_of
from keras_perceiver.cli.checkpoint_options import add_checkpoint_arguments
from keras_perceiver.cli.checkpoint_options import check_model_source
from keras_perceiver.cli.dataset_options import add_dataset_arguments
from keras_perceiver.cli.main import check_positive_ints
from keras_perceiver.cli.main import check_range
from keras_perceiver.cli.main import library_errors
from keras_perceiver.cli.model_options import add_input_arguments
from keras_perceiver.cli.model_options import add_model_arguments
from keras_perceiver.cli.train_options import add_run_length_arguments
from keras_perceiver.performance.measurement_cache import cache_folder


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "benchmark",
        help="measure which backend, precision and compilation train "
             "fastest here",
        description="Measure how fast the model that `train` would build "
        "from the same options trains on each installed backend, in "
        "float32 and (on a GPU or a CPU with native bfloat16) "
        "mixed_bfloat16, eager and compiled, within --auto-budget seconds, "
        "and print the table that `train --backend auto --precision auto "
        "--compile auto` chooses from. The table is cached per machine, "
        "model and library versions (in $KERAS_PERCEIVER_CACHE, else "
        "~/.cache/keras-perceiver); --refresh measures again.",
    )
    add_dataset_arguments(parser)
    add_model_arguments(parser)
    add_input_arguments(parser)
    add_checkpoint_arguments(
        parser, "measure a fine-tuned Hugging Face Perceiver image "
        "checkpoint, as `train --checkpoint` builds it")
    group = parser.add_argument_group("measuring")
    add_run_length_arguments(group)
    add_auto_budget_argument(group)
    group.add_argument(
        "--refresh", action="store_true",
        help="measure again even where the cache holds the table",
    )
    parser.set_defaults(run=run)


def run(args):
    from keras_perceiver.performance import choose_for_workload

    check_model_source(args)
    check_positive_ints(args, "epochs", "batch_size")
    check_range("--validation-split", args.validation_split, 0.0, 1.0,
                "in [0, 1)")
    check_auto_budget(args)
    with library_errors():
        choice = choose_for_workload(workload_of(args), epochs=args.epochs,
                                     budget_s=args.auto_budget,
                                     refresh=args.refresh)
    print(choice.table_text())
    print(f"\nauto chooses {choice.reason()}")
    print(choice.machine_line)
    if choice.from_cache:
        print(f"From the cache in {cache_folder()}; --refresh measures "
              "again.")
