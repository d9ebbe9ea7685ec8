"""MkDocs hook: the command line's page ends with the help of the command
and of each subcommand, as `keras-perceiver ... --help` prints it.

The help comes from the command's own parser (`build_parser`), so the page
cannot drift from the command. Building the parser imports no Keras.
"""

import os

PAGE = "guides/command-line.md"
# Help is wrapped at this width, whatever the terminal building the site.
COLUMNS = "72"


def command_parser():
    """The `keras-perceiver` parser, built as the command builds it."""
    # Imported first, it tells the package that the command is loading it:
    # its names then load on use, and Keras does not load at all.
    import keras_perceiver_command  # noqa: F401
    from keras_perceiver.cli.main import build_parser

    return build_parser()


def subcommand_parsers(parser):
    """The parser of each subcommand, by name, in the order of `--help`."""
    return next(action.choices for action in parser._actions
                if action.dest == "command")


def help_text(parser):
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = COLUMNS
    try:
        return parser.format_help()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


def help_section(title, parser):
    return f"## {title}\n\n```text\n{help_text(parser).rstrip()}\n```\n"


def command_help():
    """The Markdown of the help of the command and its subcommands."""
    parser = command_parser()
    sections = [help_section("`keras-perceiver`", parser)]
    for name, subparser in subcommand_parsers(parser).items():
        sections.append(help_section(f"`keras-perceiver {name}`", subparser))
    return "\n".join(sections)


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != PAGE:
        return markdown
    return f"{markdown.rstrip()}\n\n{command_help()}"
