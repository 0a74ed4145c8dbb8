"""Every way a command can fail, as one line and an exit code (never a traceback).

The modules that raise are loaded only by the commands that use them, so an error is
recognised through ``sys.modules``: an exception of a module that was never imported
cannot have been raised.

>>> explain(UsageError("--size: must be at most 100"))
Failure(code=2, message='--size: must be at most 100')
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from infrastructure.entrypoints.cli import exit_codes
from infrastructure.entrypoints.cli.parser import UsageError

DEBUG = "STREAMFOLD_DEBUG"  # set to 1 to let an unexpected error show its traceback


@dataclass(frozen=True, slots=True)
class Failure:
    code: int
    message: str


def explain(error: BaseException) -> Failure:
    """The exit code and the one line a person reads for ``error``."""
    if isinstance(error, UsageError) or _is(error, "infrastructure.settings", "ConfigError"):
        return Failure(exit_codes.USAGE, str(error))
    if _is(error, "domain.errors", "TransientFailure"):
        return Failure(exit_codes.UNAVAILABLE, str(error))
    aws = _aws_failure(error)
    if aws is not None:
        return aws
    return Failure(
        exit_codes.INTERNAL,
        f"unexpected error ({type(error).__name__}: {_first_line(error)}); "
        f"set {DEBUG}=1 for the traceback, and please report it",
    )


def debugging() -> bool:
    return os.environ.get(DEBUG, "").strip().lower() in ("1", "true", "yes", "on")


def _aws_failure(error: BaseException) -> Failure | None:
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return None
    if isinstance(error, exceptions.NoRegionError):
        return Failure(exit_codes.USAGE, "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)")
    if isinstance(error, exceptions.NoCredentialsError | exceptions.PartialCredentialsError):
        return Failure(
            exit_codes.USAGE,
            "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run with an IAM role",
        )
    if isinstance(error, exceptions.EndpointConnectionError | exceptions.ConnectionError):
        return Failure(exit_codes.UNAVAILABLE, f"cannot reach AWS: {_first_line(error)}")
    if isinstance(error, exceptions.ClientError):
        return _refused(error)
    if isinstance(error, exceptions.BotoCoreError):
        return Failure(exit_codes.USAGE, f"AWS: {_first_line(error)}")
    return None


_RETRYABLE = ("Throttling", "ThrottlingException", "ProvisionedThroughputExceededException",
              "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable")  # fmt: skip


def _refused(error: BaseException) -> Failure:
    details = getattr(error, "response", {}).get("Error", {})
    code, said = details.get("Code", "Error"), details.get("Message", "")
    if code in _RETRYABLE:
        return Failure(exit_codes.UNAVAILABLE, f"AWS is busy ({code}): retry later")
    hint = ""
    if code == "ResourceNotFoundException":
        hint = "; check the table names in STREAMFOLD_TABLES and the AWS region"
    elif code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"):
        hint = "; check the AWS credentials"
    return Failure(exit_codes.USAGE, f"AWS refused the request ({code}: {said}){hint}")


def _is(error: BaseException, module: str, name: str) -> bool:
    loaded = sys.modules.get(module)
    kind = getattr(loaded, name, None) if loaded is not None else None
    return kind is not None and isinstance(error, kind)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
