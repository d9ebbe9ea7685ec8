"""MkDocs hook: the API reference, generated from the package's `__all__`.

Each package with an `__all__` (the root and its subpackages) gets a page,
`reference/<package>.md`: its docstring, a table of every name in its
`__all__` with the first line of the name's docstring, and a mkdocstrings
entry (`::: path`) for each. A name several packages list (the root's
`Perceiver` is `keras_perceiver.models`' too) is documented once, on the
page of the package that defines it, and linked from the others.

The package is read from its source, as mkdocstrings reads it: the build
imports neither Keras nor a backend.
"""

import ast
import pathlib

from mkdocs.structure.files import File

PACKAGE = "keras_perceiver"
REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = "reference"
NAV_TITLE = "API reference"


def source_file(dotted):
    """The file of module or package `dotted`, or None if there is none."""
    path = REPOSITORY.joinpath(*dotted.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def documented_packages():
    """The root package and each subpackage whose `__init__` sets
    `__all__`, root first."""
    root = REPOSITORY / PACKAGE
    subpackages = sorted(
        f"{PACKAGE}.{init.parent.name}" for init in root.glob("*/__init__.py"))
    return [package for package in [PACKAGE, *subpackages]
            if module_names(package)[0] is not None]


def module_names(dotted):
    """Reads module `dotted`: `(its __all__ or None, where each of its
    top-level names comes from)`, the second a dict from a name to the
    dotted path it is imported from or defined as."""
    tree = ast.parse(source_file(dotted).read_text())
    strings = {"__name__": dotted}
    origins = {}
    public = None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                origins[alias.asname or alias.name] = (
                    f"{node.module}.{alias.name}")
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            origins[node.name] = f"{dotted}.{node.name}"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name == "__all__":
                public = public_list(node.value, tree, strings, origins)
            elif name is not None:
                origins[name] = f"{dotted}.{name}"
                if isinstance(node.value, ast.JoinedStr) or isinstance(
                        getattr(node.value, "value", None), str):
                    strings[name] = string_value(node.value, strings)
    return public, origins


def public_list(value, tree, strings, origins):
    """The names of an `__all__` that is a list of strings, or `sorted(D)`
    for a dict `D` from each name to the module it is loaded from on first
    use (`optional_dependencies.names_loaded_on_use`)."""
    if isinstance(value, ast.List):
        return [element.value for element in value.elts]
    if (isinstance(value, ast.Call) and getattr(value.func, "id", None)
            == "sorted" and isinstance(value.args[0], ast.Name)):
        lazy = module_level_dict(tree, value.args[0].id)
        for key, module in zip(lazy.keys, lazy.values):
            origins[key.value] = f"{string_value(module, strings)}.{key.value}"
        return sorted(key.value for key in lazy.keys)
    raise ValueError(
        "__all__ must be a list of strings or sorted(a dict). Received: "
        f"{ast.unparse(value)}")


def module_level_dict(tree, name):
    """The dict literal assigned to `name` at the top of `tree`."""
    for node in tree.body:
        if (isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", None) == name
                and isinstance(node.value, ast.Dict)):
            return node.value
    raise ValueError(f"No dict literal named {name} in the module.")


def string_value(node, strings):
    """The value of a string literal, a name of one, or an f-string of
    such names."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return strings[node.id]
    return "".join(
        string_value(part.value if isinstance(part, ast.FormattedValue)
                     else part, strings)
        for part in node.values)


def canonical(dotted):
    """Where the object at `dotted` is defined, following imports."""
    if source_file(dotted):
        return dotted
    module, name = dotted.rsplit(".", 1)
    origin = module_names(module)[1].get(name, dotted)
    return dotted if origin == dotted else canonical(origin)


def summary(dotted):
    """The first line of the docstring of the object at `dotted` (a module,
    class, function, or a variable followed by a string literal)."""
    if source_file(dotted):
        tree = ast.parse(source_file(dotted).read_text())
        return first_line(ast.get_docstring(tree))
    module, name = dotted.rsplit(".", 1)
    body = ast.parse(source_file(module).read_text()).body
    for index, node in enumerate(body):
        if getattr(node, "name", None) == name:
            return first_line(ast.get_docstring(node))
        if (isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", None) == name
                and index + 1 < len(body)
                and isinstance(body[index + 1], ast.Expr)
                and isinstance(body[index + 1].value, ast.Constant)):
            return first_line(body[index + 1].value.value)
    return ""


def first_line(docstring):
    return (docstring or "").strip().split("\n\n")[0].replace("\n", " ")


def page_path(package):
    return f"{REFERENCE}/{package}.md"


def reference():
    """`{package: [(name, canonical path)]}` for every documented package,
    and `{canonical path: the package whose page documents it}`: of the
    packages that list it, the innermost one that holds its module."""
    listed = {package: [(name, canonical(origins.get(name,
                                                     f"{package}.{name}")))
                        for name in public]
              for package in documented_packages()
              for public, origins in [module_names(package)]}
    listers = {}
    for package, entries in listed.items():
        for _, path in entries:
            listers.setdefault(path, []).append(package)
    homes = {path: max(packages, key=lambda package: (
                 path.startswith(f"{package}."), len(package)))
             for path, packages in listers.items()}
    return listed, homes


def package_page(package, entries, homes):
    """The Markdown of `package`'s page."""
    lines = [f"# `{package}`", "", f"::: {package}", "    options:",
             "      members: false", "      show_root_heading: false",
             "      show_root_toc_entry: false", "",
             "| Name | Summary |", "| --- | --- |"]
    for name, path in entries:
        if source_file(path):
            link = f"[`{name}`]({path}.md)"  # a subpackage's page
        else:
            link = f"[`{name}`][{path}]"
        lines.append(f"| {link} | {summary(path)} |")
    lines.append("")
    for name, path in entries:
        if homes.get(path) == package and not source_file(path):
            lines += [f"::: {path}", ""]
    return "\n".join(lines)


def index_page(listed):
    """The Markdown of the reference's front page."""
    lines = ["# API reference", "",
             "Every public name of keras-perceiver: each package's "
             "`__all__`, with the docstring of each name. Import a name "
             "from the package whose page lists it, e.g. "
             "`from keras_perceiver.layers import CrossAttention`.", "",
             "| Package | Summary |", "| --- | --- |"]
    for package in listed:
        lines.append(f"| [`{package}`]({package}.md) | {summary(package)} |")
    return "\n".join(lines) + "\n"


def on_config(config):
    """Puts a page per package under the reference in the navigation."""
    listed, _ = reference()
    pages = [{package: page_path(package)} for package in listed]
    for index, entry in enumerate(config.nav):
        if isinstance(entry, dict) and NAV_TITLE in entry:
            config.nav[index] = {
                NAV_TITLE: [f"{REFERENCE}/index.md", *pages]}
    return config


def on_files(files, config):
    """Adds the generated reference pages to the site's files."""
    listed, homes = reference()
    files.append(File.generated(config, f"{REFERENCE}/index.md",
                                content=index_page(listed)))
    for package, entries in listed.items():
        files.append(File.generated(
            config, page_path(package),
            content=package_page(package, entries, homes)))
    return files
