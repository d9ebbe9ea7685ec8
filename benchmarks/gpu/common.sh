# Sourced by prepare.sh and run.sh (from the repository root).

# The folder of wheels the GPU machine installs from (git-ignored).
WHEELS=${GPU_BENCH_WHEELS:-.whl}

die() {
    echo "$(basename "$0"): error: $*" >&2
    exit 2
}

# A hash of the package's source, so that run.sh can tell a wheel built
# from other source.
source_hash() {
    find keras_perceiver keras_perceiver_command.py pyproject.toml \
        -name '*.py' -o -name pyproject.toml | LC_ALL=C sort \
        | xargs sha256sum | sha256sum | cut -d' ' -f1
}
