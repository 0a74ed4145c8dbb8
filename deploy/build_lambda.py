"""Build the Lambda package: streamfold's code and its runtime wheels, without what a
Lambda never runs (the embedded tantivy index, the CLI and its terminal UI, and the
Parquet export and SQL with their Arrow and DuckDB engines, which run as a task). The demo
workload and the benchmarks live in `devtools`, a package the Lambda never gets.

    python deploy/build_lambda.py                      # -> build/lambda, for deploy/template.yaml
    python deploy/build_lambda.py --no-dependencies    # the code alone (checks, tests)

Wheels are fetched for the template's runtime (Python 3.12 on arm64) whatever machine
builds, and bytecode is compiled ahead with hash-checked .pyc files, which stay valid
after the package is zipped and unzipped (timestamps do not survive that).
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "projections", "infrastructure")
LEFT_OUT_MODULES = (
    "infrastructure/adapters/embedded",
    "infrastructure/entrypoints/cli",
    "infrastructure/adapters/export",
    "infrastructure/adapters/sqlquery",
)
LEFT_OUT_DISTRIBUTIONS = ("tantivy", "rich", "pyarrow", "duckdb")


def lambda_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The runtime dependencies of pyproject.toml, less those only the CLI needs.

    >>> "tantivy>=0.25" in lambda_requirements()
    False
    """
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return [
        requirement
        for requirement in dependencies
        if _distribution(requirement) not in LEFT_OUT_DISTRIBUTIONS
    ]


def copy_code(output: Path) -> None:
    """Copy the three packages into ``output``, leaving the CLI-only modules out."""
    left_out = {ROOT / path for path in LEFT_OUT_MODULES}

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {
            name
            for name in names
            if name == "__pycache__" or Path(directory, name) in left_out or name.endswith(".pyc")
        }

    for package in PACKAGES:
        shutil.copytree(ROOT / package, output / package, ignore=ignore)


def install_dependencies(output: Path, python_version: str, platform: str) -> None:
    subprocess.run(  # noqa: S603 - this interpreter's pip, with our own arguments
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
            "--target", str(output),
            "--platform", platform, "--python-version", python_version,
            "--implementation", "cp", "--only-binary=:all:",
            *lambda_requirements(),
        ],
        check=True,
    )  # fmt: skip


def build(
    output: Path, *, dependencies: bool, python_version: str, platform: str, compile_bytecode: bool
) -> None:
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    copy_code(output)
    if dependencies:
        install_dependencies(output, python_version, platform)
    if compile_bytecode and python_version == f"{sys.version_info[0]}.{sys.version_info[1]}":
        compileall.compile_dir(
            output,
            quiet=1,
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "lambda")
    parser.add_argument("--python-version", default="3.12", help="the template's runtime")
    parser.add_argument("--platform", default="manylinux2014_aarch64", help="arm64 Lambda")
    parser.add_argument("--no-dependencies", action="store_true", help="copy the code only")
    parser.add_argument(
        "--no-compile", action="store_true", help="skip bytecode (it is compiled only when "
        "this interpreter's version is the runtime's)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    build(
        args.output,
        dependencies=not args.no_dependencies,
        python_version=args.python_version,
        platform=args.platform,
        compile_bytecode=not args.no_compile,
    )
    print(f"Lambda package in {args.output}")
    return 0


def _distribution(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


if __name__ == "__main__":
    sys.exit(main())
