"""Every question of docs/sql.md, run against the demo dataset, gives the documented answer.

The demo dataset is what ``streamfold demo`` ingests (the CRM workload of seed 7 and 2,000
users), plus the web-analytics example the page imports with the command it shows. It is
recorded here in large batches without the search index, which gives the same events per
item and the same documents as the demo, only faster; the questions depend on neither
positions nor recording times.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.export.destination import LocalDirectory
from infrastructure.adapters.export.exporter import ParquetExport
from infrastructure.adapters.sqlquery.render import as_table
from infrastructure.adapters.sqlquery.workspace import SqlWorkspace
from infrastructure.adapters.streams import parse_lambda_event
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "sql.md"


@dataclass(frozen=True)
class Example:
    title: str
    sql: str
    output: str


def examples() -> list[Example]:
    """Each ```sql block followed by a ```text block, under the heading above them."""
    text = DOCS.read_text(encoding="utf-8")
    found = []
    pattern = (
        r"^#+ (?P<title>[^\n]+)\n(?:(?!^#).)*?"
        r"```sql\n(?P<sql>.*?)```\s*```text\n(?P<out>.*?)```"
    )
    for match in re.finditer(pattern, text, flags=re.DOTALL | re.MULTILINE):
        found.append(Example(match["title"].strip(), match["sql"].strip(), match["out"].rstrip()))
    # Commands shown with their output: ``streamfold sql "..."`` closing a ```sh block.
    command = r'^streamfold sql "(?P<sql>[^"]+)"\n```\s*```text\n(?P<out>.*?)```'
    for match in re.finditer(command, text, flags=re.DOTALL | re.MULTILINE):
        found.append(Example(match["sql"], match["sql"], match["out"].rstrip()))
    return found


def import_commands() -> list[list[str]]:
    text = DOCS.read_text(encoding="utf-8")
    commands = re.findall(r"^streamfold (import analytics .+)$", text, flags=re.MULTILINE)
    return [shlex.split(command) for command in commands]


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("demo")
    environment = {
        "STREAMFOLD_EVENT_STORE": f"sqlite:///{directory / 'events.db'}",
        "STREAMFOLD_SEARCH": f"embedded:///{directory / 'index'}",
    }
    patch = pytest.MonkeyPatch()
    for name, value in environment.items():
        patch.setenv(name, value)
    patch.chdir(ROOT)
    try:
        with Streamfold.from_settings(Settings.from_environment()) as app:
            for event in lambda_events(CrmWorkload(seed=7, users=2000).records, batch_size=5000):
                records = parse_lambda_event(event, app.settings.kind_of_table)
                app.intake.record([r.change for r in records if r.change is not None])
            app.projector.catch_up()
        for command in import_commands():
            assert main(command) == 0
        with Streamfold.from_settings(Settings.from_environment()) as app:
            ParquetExport(app.event_store, LocalDirectory(directory / "export")).run()
        yield directory / "export"
    finally:
        patch.undo()


def test_the_page_has_at_least_eight_questions_and_imports_the_analytics_example() -> None:
    assert len(examples()) >= 8
    assert import_commands(), "docs/sql.md shows how the analytics example is imported"


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.title)
def test_each_documented_query_gives_the_documented_answer(
    demo_export: Path, example: Example
) -> None:
    with SqlWorkspace(demo_export) as workspace:
        result = workspace.run(example.sql)

    assert as_table(result) == example.output
