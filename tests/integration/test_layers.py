"""The layering is checked, not remembered: a wrong-way import fails `make check`.

The packages and the import-linter contracts of pyproject.toml are copied to a scratch
directory; the copy passes as the tree does, and one import against the layers breaks it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "infrastructure", "devtools")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def scratch_copy(tmp_path: Path) -> Path:
    skipped = shutil.ignore_patterns("__pycache__", "static", "*.ndjson")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=skipped)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_an_adapter_that_imports_a_service_breaks_the_layers_contract(tmp_path: Path) -> None:
    tree = scratch_copy(tmp_path)
    assert lint_imports(tree).returncode == 0

    adapter = tree / "infrastructure" / "adapters" / "streams" / "records.py"
    adapter.write_text(
        adapter.read_text(encoding="utf-8") + "\nimport infrastructure.services.ingestion\n",
        encoding="utf-8",
    )
    broken = lint_imports(tree)

    assert broken.returncode != 0
    assert "Layers: entry points -> composition root" in broken.stdout
    assert "BROKEN" in broken.stdout
    assert "infrastructure.adapters.streams.records -> infrastructure.services" in broken.stdout


def test_a_service_that_imports_the_composition_root_breaks_it_too(tmp_path: Path) -> None:
    tree = scratch_copy(tmp_path)
    service = tree / "infrastructure" / "services" / "bootstrap.py"
    service.write_text(
        service.read_text(encoding="utf-8") + "\nimport infrastructure.composition\n",
        encoding="utf-8",
    )

    broken = lint_imports(tree)

    assert broken.returncode != 0
    assert "infrastructure.services.bootstrap -> infrastructure.composition" in broken.stdout
