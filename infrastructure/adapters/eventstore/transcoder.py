"""The library's JSON transcoder, with orjson doing the encoding and decoding.

Stored events stay plain JSON in the library's own format (``{"_type_", "_data_"}`` for
datetimes and other registered types), so either transcoder reads what the other wrote.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


class OrjsonTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._encode_obj, option=_OPTIONS)

    def decode(self, data: bytes) -> Any:
        return self._revive(orjson.loads(data))

    def _revive(self, value: Any) -> Any:
        # Inner values first, as json's object_hook would; scalars are left alone.
        if type(value) is dict:
            for key, item in value.items():
                if type(item) is dict or type(item) is list:
                    value[key] = self._revive(item)
            return self._decode_obj(value) if "_type_" in value else value
        if type(value) is list:
            return [self._revive(item) for item in value]
        return value
