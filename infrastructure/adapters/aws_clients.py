"""boto3 clients in the configured AWS region: the one place a region is resolved.

boto3 reads ``AWS_DEFAULT_REGION`` (and the shared config) but not ``AWS_REGION``, which
is what Lambda sets, what the AWS CLI v2 and the other SDKs read, and what people export.
Both are honoured here, ``AWS_REGION`` first; without either, boto3's own chain decides.

>>> aws_client("dynamodb", {"AWS_REGION": "eu-west-1"}).meta.region_name
'eu-west-1'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

AWS_REGION = "AWS_REGION"
AWS_DEFAULT_REGION = "AWS_DEFAULT_REGION"


def configured_region(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return env.get(AWS_REGION) or env.get(AWS_DEFAULT_REGION) or None


def aws_client(service: str, environ: Mapping[str, str] | None = None) -> Any:
    """A client of ``service``; boto3 raises ``NoRegionError`` when no region is set anywhere."""
    import boto3  # loaded by the commands that reach AWS only

    return boto3.client(service, region_name=configured_region(environ))  # type: ignore[call-overload]
