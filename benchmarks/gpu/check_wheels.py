"""Checks that a folder of wheels installs on the GPU machine with `--no-deps`.

    python -m benchmarks.gpu.check_wheels .whl

Every requirement of every wheel (its `Requires-Dist` lines whose markers
hold for Python 3.12 on Linux without extras) must be one of those wheels
or a package of the machine's image (`device_packages.txt`), and no
package may come twice. Prints what is missing and exits 1, or exits 0.
"""

import argparse
import sys
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ENVIRONMENT = {"python_version": "3.12", "python_full_version": "3.12.3",
               "sys_platform": "linux", "platform_system": "Linux",
               "platform_machine": "x86_64", "os_name": "posix",
               "implementation_name": "cpython", "extra": ""}
DEVICE_PACKAGES = Path(__file__).with_name("device_packages.txt")


def device_packages():
    """The canonical names of the packages on the GPU machine."""
    lines = DEVICE_PACKAGES.read_text().splitlines()
    return {canonicalize_name(line) for line in lines
            if line.strip() and not line.startswith("#")}


def requirements(wheel):
    """The canonical names a wheel needs on the GPU machine."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist()
                        if name.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    needed = set()
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = Requirement(line.partition(":")[2].strip())
        if requirement.marker is None or requirement.marker.evaluate(
            ENVIRONMENT
        ):
            needed.add(canonicalize_name(requirement.name))
    return needed


def problems(folder):
    """Lines naming each missing requirement and each duplicated wheel."""
    wheels = sorted(Path(folder).glob("*.whl"))
    names = [parse_wheel_filename(wheel.name)[0] for wheel in wheels]
    lines = [f"{name}: more than one wheel" for name in sorted(set(names))
             if names.count(name) > 1]
    available = device_packages() | set(names)
    for wheel in wheels:
        for name in sorted(requirements(wheel) - available):
            lines.append(f"{wheel.name} needs {name}: neither a wheel here "
                         "nor on the GPU machine")
    if not wheels:
        lines.append(f"no wheels in {folder}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    found = problems(parser.parse_args().folder)
    for line in found:
        print(f"check_wheels: {line}", file=sys.stderr)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
