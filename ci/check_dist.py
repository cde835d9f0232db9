"""Check the built wheel and sdist for the files and entry points users rely on.

    python ci/check_dist.py DIST_DIR

Exits 1 and lists every problem found. `twine check` covers the metadata; this covers the
content: every file of the package (type marker and example DAGs included), the provider
and console-script entry points, and the docs and changelog in the sdist.
"""

from __future__ import annotations

import configparser
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_vault_provider"
EXAMPLE_DAGS = f"{PACKAGE}/example_dags"
ENTRY_POINTS = {
    "apache_airflow_provider": {"provider_info": f"{PACKAGE}.get_provider_info:get_provider_info"},
    "console_scripts": {"airflow-vault-init": f"{PACKAGE}.init.__main__:main"},
}
SDIST_FILES = ("README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml", "Makefile", "ci/newest.txt", "docs/conf.py", "docs/index.md")


def source_package_files() -> list[str]:
    """Return the package's files in the source tree, as wheel paths, without bytecode."""
    files = []
    for path in sorted((ROOT / PACKAGE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append(path.relative_to(ROOT).as_posix())
    return files


def check_wheel(wheel: Path) -> list[str]:
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points_file = next((name for name in names if name.endswith(".dist-info/entry_points.txt")), None)
        entry_points_text = archive.read(entry_points_file).decode() if entry_points_file else ""

    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in names):
        problems.append(f"{wheel.name}: the LICENSE file is missing from .dist-info/licenses/.")
    if f"{PACKAGE}/py.typed" not in names:
        problems.append(f"{wheel.name}: {PACKAGE}/py.typed is missing, so type checkers ignore the package's hints.")
    if (ROOT / EXAMPLE_DAGS).is_dir() and not any(name.startswith(EXAMPLE_DAGS + "/") for name in names):
        problems.append(f"{wheel.name}: {EXAMPLE_DAGS}/ exists in the source tree but not in the wheel.")
    missing = [name for name in source_package_files() if name not in names]
    if missing:
        problems.append(f"{wheel.name}: package files missing from the wheel: {', '.join(missing)}.")

    entry_points = configparser.ConfigParser(delimiters=("=",))
    entry_points.optionxform = str  # type: ignore[assignment,method-assign]
    entry_points.read_string(entry_points_text)
    for group, expected in ENTRY_POINTS.items():
        for name, target in expected.items():
            found = entry_points.get(group, name, fallback="").strip()
            if found != target:
                problems.append(
                    f"{wheel.name}: entry point [{group}] {name} is {found or 'missing'!r}, expected {target!r}."
                )
    return problems


def check_sdist(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        # Members are prefixed with "<name>-<version>/".
        names = {member.name.split("/", 1)[1] for member in archive.getmembers() if "/" in member.name}
    return [f"{sdist.name}: {name} is missing." for name in SDIST_FILES if name not in names]


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python ci/check_dist.py DIST_DIR", file=sys.stderr)
        return 2
    dist = Path(sys.argv[1])
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"Expected one wheel and one sdist in {dist}, found {len(wheels)} and {len(sdists)}.", file=sys.stderr)
        return 1

    problems = check_wheel(wheels[0]) + check_sdist(sdists[0])
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"{wheels[0].name} and {sdists[0].name} contain the package files, entry points, docs and changelog.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
