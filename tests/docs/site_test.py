"""The documentation site: it builds with `mkdocs build --strict`, its API
reference has an entry for every public name, and each public class and
function shows an example there.

The site is the same under every backend (the build imports no Keras), so
these tests run under one.
"""

import html.parser
import importlib
import inspect
import os
import pathlib
import pkgutil
import re

import griffe
import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

import keras_perceiver
from keras_perceiver.cli.main import build_parser

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.one_backend("jax")


def public_packages():
    """The root package and every subpackage with an `__all__`."""
    subpackages = [importlib.import_module(f"keras_perceiver.{info.name}")
                   for info in pkgutil.iter_modules(keras_perceiver.__path__)
                   if info.ispkg]
    return [package for package in [keras_perceiver, *subpackages]
            if hasattr(package, "__all__")]


def public_callables():
    """`(package, name, object)` for each class and function in an
    `__all__`."""
    for package in public_packages():
        for name in package.__all__:
            value = getattr(package, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                yield package.__name__, name, value


def defined_at(value):
    return f"{value.__module__}.{value.__qualname__}"


class Anchors(html.parser.HTMLParser):
    """The element ids of a page and the fragments of its links."""

    def __init__(self):
        super().__init__()
        self.ids = set()
        self.link_fragments = set()

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "a" and "#" in (attributes.get("href") or ""):
            self.link_fragments.add(attributes["href"].split("#", 1)[1])


def anchors(page):
    parser = Anchors()
    parser.feed(page.read_text())
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built strictly (a warning fails the build) from the
    repository root, where mkdocs.yml's paths start."""
    site_dir = tmp_path_factory.mktemp("site")
    here = os.getcwd()
    os.chdir(REPOSITORY)
    try:
        build(load_config(str(REPOSITORY / "mkdocs.yml"),
                          site_dir=str(site_dir), strict=True))
    finally:
        os.chdir(here)
    return site_dir


def reference_page(site, package_name):
    return site / "reference" / package_name / "index.html"


def test_the_site_builds_strictly_with_every_page(site):
    for page in ["index.html", "guides/command-line/index.html",
                 "reference/index.html"]:
        assert (site / page).is_file(), page


def test_every_public_name_has_an_entry_in_the_reference(site):
    documented = set()
    for page in (site / "reference").rglob("index.html"):
        documented |= anchors(page).ids
    missing = []
    for package in public_packages():
        page = reference_page(site, package.__name__)
        links = anchors(page).link_fragments if page.is_file() else set()
        for name in package.__all__:
            value = getattr(package, name)
            if inspect.ismodule(value):
                entry_found = reference_page(site, value.__name__).is_file()
            elif inspect.isclass(value) or inspect.isfunction(value):
                entry_found = (defined_at(value) in links
                               and defined_at(value) in documented)
            else:  # a constant: linked by its name
                entry_found = any(link.endswith(f".{name}")
                                  and link in documented for link in links)
            if not entry_found:
                missing.append(f"{package.__name__}.{name}")
    assert missing == []


def test_every_public_class_and_function_shows_an_example(site):
    """Read as the site reads them: griffe, Google style, with the
    extension that mkdocs.yml gives it."""
    extensions = griffe.load_extensions(
        str(REPOSITORY / "docs/hooks/example_sections.py:ExampleSections"))
    package = griffe.load(
        "keras_perceiver", search_paths=[str(REPOSITORY)],
        extensions=extensions, docstring_parser="google",
        docstring_options={"warn_missing_types": False,
                           "warn_unknown_params": False})
    without_example = []
    for package_name, name, value in public_callables():
        entry = package[defined_at(value).removeprefix("keras_perceiver.")]
        sections = entry.docstring.parsed if entry.docstring else []
        examples = [section for section in sections
                    if section.kind.value == "examples"]
        # Doctest lines or a fenced block of code.
        if not any(code in text for section in examples
                   for _, text in section.value for code in (">>>", "```")):
            without_example.append(f"{package_name}.{name}")
    assert without_example == []


def test_the_command_line_page_shows_the_help_of_every_command(site):
    page = (site / "guides/command-line/index.html").read_text()
    subcommands = next(action.choices for action in build_parser()._actions
                       if action.dest == "command")
    for name in ["", *subcommands]:
        usage = re.escape(f"usage: keras-perceiver {name}".rstrip())
        assert re.search(usage + r"\s", page), name
