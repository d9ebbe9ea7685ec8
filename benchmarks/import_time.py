"""Start-up cost of the `keras-perceiver` command: before any work is done.

    python -m benchmarks.import_time --section after
    python -m benchmarks.import_time --section before --root /tmp/main-copy

Times, best of `--repeats` fresh processes per backend, `keras-perceiver
--help`, an argument error (`train --epochs x`, exit status 2) and `python
-c "import keras_perceiver"`, and lists the heavy libraries each one
loaded. `--root` is the source tree measured (its code is put first on
PYTHONPATH), so the code of another commit can be measured with this
script. Also records the top entries, by cumulative time, of `python -X
importtime -m keras_perceiver_command --help` (before the command
deferred its imports, the same as `-m keras_perceiver.cli`). The measured section is stored
in `benchmarks/results/import_time.json` beside the others; the Markdown
`import_time.md` shows every section.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import machine
from benchmarks.report import machine_summary
from keras_perceiver.reports.tables import markdown_table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BACKENDS = ("tensorflow", "jax", "torch")
HEAVY = ("keras", "tensorflow", "jax", "torch")
# What each measured process runs, after `python`.
COMMANDS = {
    "--help": ["-m", "keras_perceiver_command", "--help"],
    "argument error": ["-m", "keras_perceiver_command", "train",
                       "--epochs", "x"],
    "import keras_perceiver": ["-c", "import keras_perceiver"],
}
# Appended to each command: which heavy libraries the process loaded.
LOADED = ("import atexit, sys; atexit.register(lambda: print('LOADED', "
          f"*[m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr))")
IMPORTTIME_TOP = 15


def run_python(arguments, root, backend):
    """Runs `python ARGUMENTS` in `root`; returns (seconds, stderr)."""
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(root))
    env.pop("PYTHONSTARTUP", None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *arguments], cwd=root, env=env,
                          capture_output=True, text=True)
    return time.perf_counter() - start, done.stderr


def loaded_modules(arguments, root, backend):
    """The heavy libraries that `python ARGUMENTS` imports."""
    if arguments[0] == "-m":  # run the module after registering the report
        arguments = ["-c", f"{LOADED}; import runpy; sys.argv = "
                     f"{[arguments[1], *arguments[2:]]!r}; runpy.run_module("
                     f"{arguments[1]!r}, run_name='__main__')"]
    else:
        arguments = ["-c", f"{LOADED}; {arguments[1]}"]
    _, stderr = run_python(arguments, root, backend)
    line = [x for x in stderr.splitlines() if x.startswith("LOADED")]
    return line[-1].split()[1:] if line else None


def importtime_top(root, backend):
    """The slowest imports (cumulative microseconds) of `--help`."""
    _, stderr = run_python(
        ["-X", "importtime", "-m", "keras_perceiver_command", "--help"],
        root,
        backend)
    entries = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        entries.append((int(cumulative), name.strip()))
    return [{"module": name, "cumulative_ms": round(us / 1000, 1)}
            for us, name in sorted(entries, reverse=True)[:IMPORTTIME_TOP]]


def measure(root, repeats):
    """Best-of-`repeats` wall times and loaded libraries, per backend."""
    rows = []
    for backend in BACKENDS:
        for name, arguments in COMMANDS.items():
            times = [run_python(arguments, root, backend)[0]
                     for _ in range(repeats)]
            rows.append({"backend": backend, "command": name,
                         "best_s": min(times), "times_s": times,
                         "loaded": loaded_modules(arguments, root, backend)})
            print(f"{backend:10} {name:24} {min(times):6.2f} s "
                  f"{rows[-1]['loaded']}", flush=True)
    return rows


def loaded_text(loaded):
    """The loaded libraries for the table ("?" where none was reported)."""
    if loaded is None:
        return "?"
    return " ".join(loaded) or "none"


def render(results):
    lines = [
        "# Start-up time of the `keras-perceiver` command",
        "",
        "Written by `python -m benchmarks.import_time`: wall time, best of "
        "3 fresh processes, of `python -m keras_perceiver_command --help` "
        "(what the `keras-perceiver` script runs), of an argument error "
        "(`train --epochs x`, exit status 2) and of `python -c \"import "
        "keras_perceiver\"`, with `KERAS_BACKEND` set to each backend; "
        "\"loaded\" lists the heavy libraries the process imported. The "
        "machine is shared (2 cores), so the times are rough; the loaded "
        "libraries are exact.",
        "",
        "Once a command runs, Keras loads its backend, and, on torch, JAX "
        "(`keras.src.backend.torch.trainer` imports it). A torch or JAX "
        "`train` run also imports TensorFlow where it is installed: Keras' "
        "`set_random_seed` and `serialize_keras_object` (checkpoints, "
        "`model.save`) ask `tensorflow.available`, which imports it "
        "(Keras 3.15.1; left alone here). In Python, `import "
        "keras_perceiver` loads Keras and registers every class (so "
        "`keras.saving.load_model` works right after it); only the command "
        "defers that until its arguments are parsed.",
    ]
    for section in ("before", "after"):
        if section not in results:
            continue
        result = results[section]
        lines += ["", f"## {section.capitalize()} ({result['source']})", "",
                  f"Command: `{result['command']}`", ""]
        lines.append(markdown_table(
            ["backend", "command", "best of 3 (s)", "loaded"],
            [[r["backend"], r["command"], f"{r['best_s']:.2f}",
              loaded_text(r["loaded"])] for r in result["rows"]]))
        lines += ["", "Slowest imports of `KERAS_BACKEND=torch python -X "
                  "importtime -m keras_perceiver_command --help` (cumulative):",
                  ""]
        lines.append(markdown_table(
            ["module", "cumulative (ms)"],
            [[e["module"], f"{e['cumulative_ms']:.1f}"]
             for e in result["importtime"]]))
        lines += ["", "### Machine", "", machine_summary(result)]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=("before", "after"),
                        required=True)
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the source tree to measure (default: this one)")
    parser.add_argument("--source", default="this tree",
                        help="what --root holds, for the results, e.g. a "
                             "commit (default: 'this tree')")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    result = {"command": " ".join(["python -m benchmarks.import_time",
                                   *sys.argv[1:]]),
              "source": args.source,
              "load_average_before": machine.load_average(),
              "machine": machine.describe()}
    result["rows"] = measure(args.root.resolve(), args.repeats)
    result["importtime"] = importtime_top(args.root.resolve(), "torch")
    result["load_average_after"] = machine.load_average()
    result["total_s"] = time.perf_counter() - start
    path = RESULTS / "import_time.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[args.section] = result
    path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "import_time.md").write_text(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
