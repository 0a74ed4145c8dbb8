"""A CRM whose changes are delivered to the in-process Lambda handler, batch by batch.

>>> crm = Crm()
>>> answer = deliver(crm.next_batch(), remaining_ms=7_000)
>>> answer.failed == answer.identifiers  # every record to retry, in ``answer.seconds``
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from devtools.demo import SimulatedTables
from infrastructure import lambda_handlers
from infrastructure.composition import Streamfold
from infrastructure.settings import Settings
from tests.chaos.worker import LambdaContext
from tests.e2e.documents import searchable_documents
from tests.support.reference import expected_documents

PLANS = ("free", "pro", "team")
FIGURES: Counter[str] = Counter()  # what the fault tests did, reported at the end


class Crm:
    """Users and images changing round by round; each round is one batch of records."""

    def __init__(self) -> None:
        self.tables = SimulatedTables()
        self.rounds = 0

    def next_batch(self) -> dict[str, Any]:
        n = self.rounds
        self.rounds += 1
        for u in range(n * 3, n * 3 + 3):
            self.tables.put("users", user_item(f"u-{u:03d}", PLANS[u % 3]))
            self.tables.put("images", _image(f"i-{u:03d}", f"u-{u:03d}"))
            self.tables.put("likes", _like(f"i-{u:03d}", f"u-{(u + 1) % (n * 3 + 3):03d}"))
        if n:  # a change that reaches other documents: a rename fans out to the images
            self.tables.update("users", {"userId": "u-000"}, {"name": f"Ada, round {n}"})
            self.tables.update("images", {"imageId": "i-001"}, {"userId": f"u-{n * 3:03d}"})
        return {"Records": self.tables.take_records()}

    def expected(self) -> dict[str, dict[str, dict[str, Any]]]:
        return expected_documents(self.tables.final_items())


@dataclass(frozen=True)
class Answer:
    identifiers: list[str]  # every record of the batch
    failed: list[str]  # the records the handler asks Lambda to deliver again
    seconds: float

    @property
    def succeeded(self) -> bool:
        return not self.failed


def deliver(event: dict[str, Any], remaining_ms: int = 60_000) -> Answer:
    started = time.monotonic()
    response = lambda_handlers.stream_handler(event, LambdaContext(remaining_ms))
    seconds = time.monotonic() - started
    identifiers = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
    failed = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
    FIGURES["batches_delivered"] += 1
    if failed:
        FIGURES["batches_reported_for_retry"] += 1
        slowest = max(FIGURES["slowest_answer_of_a_failed_batch_ms"], round(seconds * 1000))
        FIGURES["slowest_answer_of_a_failed_batch_ms"] = slowest
    return Answer(identifiers, failed, seconds)


def searchable() -> dict[str, dict[str, dict[str, Any]]]:
    """What the CRM finds now, through a composition root of its own."""
    with Streamfold.from_settings(Settings.from_environment()) as app:
        documents = searchable_documents(app)
    FIGURES["documents_checked"] += sum(len(docs) for docs in documents.values())
    return documents


def searchable_now() -> dict[str, dict[str, dict[str, Any]]]:
    """What the CRM finds right after an answer, read through the warm container."""
    documents = searchable_documents(lambda_handlers._app())
    FIGURES["documents_checked"] += sum(len(docs) for docs in documents.values())
    return documents


def user_item(user_id: str, plan: str) -> dict[str, Any]:
    """A valid item of the users table."""
    return {
        "userId": user_id,
        "email": f"{user_id}@mail.example",
        "name": f"Name of {user_id}",
        "plan": plan,
        "country": "DE",
        "createdAt": "2024-03-01T10:00:00Z",
        "marketingOptIn": False,
    }


def _image(image_id: str, owner: str) -> dict[str, Any]:
    return {
        "imageId": image_id,
        "userId": owner,
        "title": f"Mountains {image_id}",
        "imageUrl": f"https://cdn.example/{image_id}.jpg",
        "createdAt": "2024-03-02T10:00:00Z",
        "status": "active",
        "sizeBytes": 1000,
    }


def _like(image_id: str, user_id: str) -> dict[str, Any]:
    return {"imageId": image_id, "userId": user_id, "createdAt": "2024-03-03T10:00:00Z"}
