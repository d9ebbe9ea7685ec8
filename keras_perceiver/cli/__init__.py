"""The `keras-perceiver` command. Each subcommand lives in its own module
with `add_parser(subparsers)` and `run(args)`; `main.py` dispatches."""
