"""Griffe extension: the package's `Example:` sections as Google-style
sections.

The docstrings write their examples unindented, after a blank line:

    Example:

    >>> layer = SelfAttention(num_heads=4)

Google style (and griffe) wants a section's body indented under its title.
This extension indents each `Example:`/`Examples:` body up to the next
section title, and names it `Examples:` (griffe's title for the section),
so that mkdocstrings shows it as an Examples section with its doctest
lines as code.
"""

import re

import griffe

EXAMPLE_TITLE = re.compile(r"^Examples?:\s*$")
SECTION_TITLE = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")


def indented_examples(text):
    """`text` with the body of each example section indented."""
    lines = []
    in_example = False
    for line in text.split("\n"):
        if EXAMPLE_TITLE.match(line):
            in_example = True
            lines.append("Examples:")
        elif in_example and SECTION_TITLE.match(line):
            in_example = False
            lines.append(line)
        elif in_example and line.strip():
            lines.append(f"    {line}")
        elif in_example and not EXAMPLE_TITLE.match(lines[-1]):
            lines.append("")
        elif not in_example:
            lines.append(line)
    return "\n".join(lines)


class ExampleSections(griffe.Extension):
    """Indents the example sections of every docstring it loads."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = indented_examples(obj.docstring.value)
