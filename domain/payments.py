"""The payment aggregate: one per (user, payment) row of the payments table."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from domain.aggregate import SourceAggregate, mirrors_item
from domain.identity import aggregate_id
from domain.items import PaymentItem, attribute_types, attribute_values
from domain.kinds import TableKind


@mirrors_item
class Payment(SourceAggregate, created_event_name="Recorded"):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class; like
    # SourceAggregate's, they add no field and reuse their base's dataclass methods.
    # Each event applies itself, and command methods trigger events explicitly: ``@event``
    # would build one more event class per decorated method at import.
    class Event(SourceAggregate.Event):
        __dataclass_fields__ = SourceAggregate.Event.__dataclass_fields__

    class Created(Event, SourceAggregate.Created):
        __dataclass_fields__ = SourceAggregate.Created.__dataclass_fields__

    KIND = TableKind.PAYMENTS

    class Recorded(Created):
        __annotations__ = attribute_types(PaymentItem)

        def apply(self, aggregate: Payment) -> None:
            aggregate.take_item(self)

    class Restored(Event):
        __annotations__ = attribute_types(PaymentItem)

        def apply(self, aggregate: Payment) -> None:
            aggregate.take_item(self)

    class AmountCorrected(Event):
        amount_cents: int

        def apply(self, aggregate: Payment) -> None:
            aggregate.amount_cents = self.amount_cents

    class PaymentDateCorrected(Event):
        paid_at: str

        def apply(self, aggregate: Payment) -> None:
            aggregate.paid_at = self.paid_at

    class Refunded(Event):
        def apply(self, aggregate: Payment) -> None:
            aggregate.status = "refunded"

    class Reinstated(Event):
        def apply(self, aggregate: Payment) -> None:
            aggregate.status = "paid"

    class Deleted(Event):
        expired: bool

        def apply(self, aggregate: Payment) -> None:
            aggregate.deleted = True

    REVISIONS: ClassVar[dict[str, str]] = {
        "amount_cents": "correct_amount",
        "paid_at": "correct_payment_date",
        "status": "change_status",
    }

    @staticmethod
    def create_id(user_id: str, payment_id: str, **_: Any) -> UUID:
        return aggregate_id(TableKind.PAYMENTS, (user_id, payment_id))

    @classmethod
    def creation(cls, item: PaymentItem, aggregate_id: UUID | None = None) -> Any:
        return cls._create_from(cls.Recorded, item, aggregate_id)

    def restore(self, item: PaymentItem) -> None:
        self.trigger_event(self.Restored, **attribute_values(item))

    def correct_amount(self, amount_cents: int) -> None:
        self.trigger_event(self.AmountCorrected, amount_cents=amount_cents)

    def correct_payment_date(self, paid_at: str) -> None:
        self.trigger_event(self.PaymentDateCorrected, paid_at=paid_at)

    def change_status(self, status: str) -> None:
        if status == "refunded":
            self.trigger_event(self.Refunded)
        else:
            self.trigger_event(self.Reinstated)

    def delete(self, *, expired: bool) -> None:
        self.trigger_event(self.Deleted, expired=expired)


PaymentRecorded = Payment.Recorded
PaymentRestored = Payment.Restored
PaymentAmountCorrected = Payment.AmountCorrected
PaymentDateCorrected = Payment.PaymentDateCorrected
PaymentRefunded = Payment.Refunded
PaymentReinstated = Payment.Reinstated
PaymentDeleted = Payment.Deleted
