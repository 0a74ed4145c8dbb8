"""``streamfold dashboards install`` against a stand-in for Dashboards' import endpoint.

No OpenSearch Dashboards can run on these machines. The stand-in below answers
``POST /api/saved_objects/_import`` as Dashboards documents it: the ``osd-xsrf`` header
is required, the body is multipart with one NDJSON file, references must resolve, an
existing object is a conflict unless ``overwrite=true``, and the answer is
``{"success", "successCount", "errors"}``.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from infrastructure.entrypoints.cli.main import main


@dataclass
class Dashboards:
    """What the stand-in holds and saw."""

    url: str
    credentials: tuple[str, str] | None = None
    stored: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def titles(self, kind: str) -> list[str]:
        return sorted(o["attributes"]["title"] for (t, _), o in self.stored.items() if t == kind)


def _handler(dashboards: Dashboards) -> type[BaseHTTPRequestHandler]:
    class ImportEndpoint(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            dashboards.requests.append(
                {"path": url.path, "query": url.query, "headers": dict(self.headers)}
            )
            if url.path != "/api/saved_objects/_import":
                return self.answer(404, {"statusCode": 404, "message": "Not Found"})
            if dashboards.credentials and self.headers.get("authorization") != _basic(
                *dashboards.credentials
            ):
                return self.answer(401, {"statusCode": 401, "message": "Unauthorized"})
            if self.headers.get("osd-xsrf") is None:
                return self.answer(
                    400, {"statusCode": 400, "message": "Request must contain a osd-xsrf header."}
                )
            overwrite = parse_qs(url.query).get("overwrite") == ["true"]
            self.answer(
                200, self.imported(_ndjson_file(self.headers["content-type"], body), overwrite)
            )

        def imported(self, objects: list[dict[str, Any]], overwrite: bool) -> dict[str, Any]:
            known = set(dashboards.stored) | {(o["type"], o["id"]) for o in objects}
            errors, count = [], 0
            for saved in objects:
                key = (saved["type"], saved["id"])
                error: dict[str, Any] | None = None
                missing = [r for r in saved["references"] if (r["type"], r["id"]) not in known]
                if missing:
                    error = {"type": "missing_references", "references": missing}
                elif key in dashboards.stored and not overwrite:
                    error = {"type": "conflict"}
                if error:
                    title = saved["attributes"]["title"]
                    errors.append(
                        {"id": saved["id"], "type": saved["type"], "title": title, "error": error}
                    )
                    continue
                dashboards.stored[key] = saved
                count += 1
            answer: dict[str, Any] = {"success": not errors, "successCount": count}
            if errors:
                answer["errors"] = errors
            return answer

        def answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return ImportEndpoint


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _ndjson_file(content_type: str, body: bytes) -> list[dict[str, Any]]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"content-type: {content_type}\r\n\r\n".encode() + body
    )
    (part,) = [p for p in message.iter_parts() if p.get_filename()]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return [json.loads(line) for line in payload.decode().splitlines() if line.strip()]


@pytest.fixture
def dashboards(monkeypatch: pytest.MonkeyPatch) -> Iterator[Dashboards]:
    for variable in ("STREAMFOLD_OPENSEARCH_AUTH", "STREAMFOLD_INDEX_PREFIX"):
        monkeypatch.delenv(variable, raising=False)
    port = free_port()
    state = Dashboards(url=f"http://127.0.0.1:{port}")
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_install_imports_every_object_with_the_xsrf_header(
    dashboards: Dashboards, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "dashboards", "install", dashboards.url)

    assert code == 0
    assert "Imported 11 of 11 saved objects" in out
    assert dashboards.titles("index-pattern") == ["streamfold-images", "streamfold-users"]
    assert dashboards.titles("dashboard") == ["streamfold CRM"]
    (request,) = dashboards.requests
    assert request["query"] == "overwrite=true"
    assert request["headers"]["osd-xsrf"] == "true"


def test_installing_again_overwrites_and_keep_existing_reports_the_conflicts(
    dashboards: Dashboards, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "dashboards", "install", dashboards.url)[0] == 0
    assert run(capsys, "dashboards", "install", dashboards.url)[0] == 0

    code, _, err = run(capsys, "dashboards", "install", dashboards.url, "--keep-existing")

    assert code == 1
    assert "not imported: dashboard streamfold-crm (streamfold CRM): conflict" in err


def test_the_index_prefix_names_the_patterns_and_the_tenant_is_sent(
    dashboards: Dashboards, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "dashboards",
        "install",
        dashboards.url,
        "--index-prefix",
        "crm",
        "--tenant",
        "global",
        "--json",
    )

    assert code == 0
    assert json.loads(out) == {"imported": 11, "objects": 11, "problems": []}
    assert dashboards.titles("index-pattern") == ["crm-images", "crm-users"]
    assert dashboards.requests[0]["headers"]["securitytenant"] == "global"


def test_basic_credentials_in_the_url_are_sent_and_never_printed(
    dashboards: Dashboards, capsys: pytest.CaptureFixture[str]
) -> None:
    dashboards.credentials = ("admin", "s3cret-pass")
    with_credentials = dashboards.url.replace("http://", "http://admin:s3cret-pass@")

    accepted = run(capsys, "dashboards", "install", with_credentials)
    refused = run(capsys, "dashboards", "install", with_credentials.replace("s3cret-pass", "nope"))

    assert accepted[0] == 0
    assert refused[0] == 2
    assert "refused the credentials (401)" in refused[2]
    assert all(
        "s3cret" not in text and "nope" not in text for text in (*accepted[1:], *refused[1:])
    )


def test_a_url_without_the_import_api_says_which_url_to_give(
    dashboards: Dashboards, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "dashboards", "install", f"{dashboards.url}/wrong/prefix")

    assert code == 2
    assert "no saved-objects API" in err and "_dashboards" in err


def test_an_unreachable_dashboards_is_one_line_and_exit_code_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STREAMFOLD_OPENSEARCH_AUTH", raising=False)

    code, _, err = run(capsys, "dashboards", "install", f"http://127.0.0.1:{free_port()}")

    assert code == 3  # unreachable: worth retrying later (docs/operations.md, "Exit codes")
    assert err.count("\n") == 1 and "cannot be reached" in err


def test_export_prints_the_objects_for_a_manual_import(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert main(["dashboards", "export", "--index-prefix", "crm"]) == 0

    lines = capsysbinary.readouterr().out.decode().splitlines()
    assert len(lines) == 11
    assert json.loads(lines[0])["attributes"]["title"] == "crm-users"
