"""The payment aggregate: one per (user, payment) row of the payments table."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import SourceAggregate
from domain.identity import aggregate_id
from domain.items import PaymentItem
from domain.kinds import TableKind


class Payment(SourceAggregate):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class.
    class Event(SourceAggregate.Event):
        pass

    class Created(Event, SourceAggregate.Created):
        pass

    class Recorded(Created):
        user_id: str
        payment_id: str
        amount_cents: int
        paid_at: str
        status: str

    class Restored(Event):
        user_id: str
        payment_id: str
        amount_cents: int
        paid_at: str
        status: str

    class AmountCorrected(Event):
        amount_cents: int

    class PaymentDateCorrected(Event):
        paid_at: str

    class Refunded(Event):
        pass

    class Reinstated(Event):
        pass

    class Deleted(Event):
        expired: bool

    REVISIONS: ClassVar[dict[str, str]] = {
        "amount_cents": "correct_amount",
        "paid_at": "correct_payment_date",
        "status": "change_status",
    }

    @staticmethod
    def create_id(user_id: str, payment_id: str, **_: Any) -> UUID:
        return aggregate_id(TableKind.PAYMENTS, (user_id, payment_id))

    @event(Recorded)
    def __init__(
        self, user_id: str, payment_id: str, amount_cents: int, paid_at: str, status: str
    ) -> None:
        self.user_id, self.payment_id = user_id, payment_id
        self.amount_cents, self.paid_at, self.status = amount_cents, paid_at, status
        self.deleted = False

    @classmethod
    def from_item(cls, item: PaymentItem) -> Payment:
        return cls(**item.model_dump())

    def restore(self, item: PaymentItem) -> None:
        self._restore(**item.model_dump())

    @event(Restored)
    def _restore(
        self, user_id: str, payment_id: str, amount_cents: int, paid_at: str, status: str
    ) -> None:
        self.amount_cents, self.paid_at, self.status = amount_cents, paid_at, status
        self.deleted = False

    @event(AmountCorrected)
    def correct_amount(self, amount_cents: int) -> None:
        self.amount_cents = amount_cents

    @event(PaymentDateCorrected)
    def correct_payment_date(self, paid_at: str) -> None:
        self.paid_at = paid_at

    def change_status(self, status: str) -> None:
        if status == "refunded":
            self._refund()
        else:
            self._reinstate()

    @event(Refunded)
    def _refund(self) -> None:
        self.status = "refunded"

    @event(Reinstated)
    def _reinstate(self) -> None:
        self.status = "paid"

    @event(Deleted)
    def delete(self, *, expired: bool) -> None:
        self.deleted = True


PaymentRecorded = Payment.Recorded
PaymentRestored = Payment.Restored
PaymentAmountCorrected = Payment.AmountCorrected
PaymentDateCorrected = Payment.PaymentDateCorrected
PaymentRefunded = Payment.Refunded
PaymentReinstated = Payment.Reinstated
PaymentDeleted = Payment.Deleted
