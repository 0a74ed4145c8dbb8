"""What was wrong with a request's body, in words a caller can act on.

The web framework reports an undecodable body as "JSON decode error" at a character
offset, and a missing body (or one sent as something other than JSON) as "Field required"
at the body itself; these say instead where the JSON breaks (line and column) and what to
send.

>>> body_problem(record, body='{"text": "sunset",}', content_type="application/json")
{'loc': ('body',), 'msg': 'not valid JSON at line 1, column 19: expecting property name ...'}
"""

from __future__ import annotations

import email.message
from collections.abc import Mapping
from typing import Any

BODY = ("body",)
NOT_JSON = "not sent as JSON: send it with Content-Type: application/json"
NO_BODY = "missing: send a JSON object ({} asks with every default)"


def body_problem(
    record: Mapping[str, Any], body: Any, content_type: str | None
) -> dict[str, Any] | None:
    """The problem of the body as a whole, or None if ``record`` is about one of its fields."""
    location = tuple(record.get("loc", ()))
    if record.get("type") == "json_invalid":
        return {"loc": BODY, "msg": _undecodable(record, body, location)}
    if location != BODY:
        return None
    if not _is_json(content_type) and body is not None:
        return {"loc": BODY, "msg": NOT_JSON}
    if record.get("type") == "missing":
        return {"loc": BODY, "msg": NO_BODY}
    return None


def _undecodable(record: Mapping[str, Any], body: Any, location: tuple[Any, ...]) -> str:
    reason = str((record.get("ctx") or {}).get("error") or "it cannot be decoded")
    reason = reason[:1].lower() + reason[1:]
    offset = location[1] if len(location) > 1 and isinstance(location[1], int) else None
    if not isinstance(body, str) or offset is None:
        return f"not valid JSON: {reason}"
    line = body.count("\n", 0, offset) + 1
    column = offset - (body.rfind("\n", 0, offset) + 1) + 1
    return f"not valid JSON at line {line}, column {column}: {reason}"


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
