"""The user aggregate: one per item of the users table."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from domain.aggregate import SourceAggregate, mirrors_item
from domain.identity import aggregate_id
from domain.items import UserItem, attribute_types, attribute_values
from domain.kinds import TableKind


@mirrors_item
class User(SourceAggregate, created_event_name="Registered"):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class; like
    # SourceAggregate's, they add no field and reuse their base's dataclass methods.
    # Each event applies itself, and command methods trigger events explicitly: ``@event``
    # would build one more event class per decorated method at import.
    class Event(SourceAggregate.Event):
        __dataclass_fields__ = SourceAggregate.Event.__dataclass_fields__

    class Created(Event, SourceAggregate.Created):
        __dataclass_fields__ = SourceAggregate.Created.__dataclass_fields__

    KIND = TableKind.USERS

    class Registered(Created):
        __annotations__ = attribute_types(UserItem)

        def apply(self, aggregate: User) -> None:
            aggregate.take_item(self)

    class Restored(Event):
        __annotations__ = attribute_types(UserItem)

        def apply(self, aggregate: User) -> None:
            aggregate.take_item(self)

    class EmailChanged(Event):
        email: str

        def apply(self, aggregate: User) -> None:
            aggregate.email = self.email

    class Renamed(Event):
        name: str

        def apply(self, aggregate: User) -> None:
            aggregate.name = self.name

    class PlanChanged(Event):
        plan: str
        previous_plan: str

        def apply(self, aggregate: User) -> None:
            aggregate.plan = self.plan

    class CountryChanged(Event):
        country: str

        def apply(self, aggregate: User) -> None:
            aggregate.country = self.country

    class SignupDateCorrected(Event):
        created_at: str

        def apply(self, aggregate: User) -> None:
            aggregate.created_at = self.created_at

    class MarketingConsentChanged(Event):
        marketing_opt_in: bool

        def apply(self, aggregate: User) -> None:
            aggregate.marketing_opt_in = self.marketing_opt_in

    class TagsChanged(Event):
        tags: list[str] | None

        def apply(self, aggregate: User) -> None:
            aggregate.tags = self.tags

    class BioChanged(Event):
        bio: str | None

        def apply(self, aggregate: User) -> None:
            aggregate.bio = self.bio

    class Deleted(Event):
        expired: bool

        def apply(self, aggregate: User) -> None:
            aggregate.deleted = True

    REVISIONS: ClassVar[dict[str, str]] = {
        "email": "change_email",
        "name": "rename",
        "plan": "change_plan",
        "country": "move_country",
        "created_at": "correct_signup_date",
        "marketing_opt_in": "change_marketing_consent",
        "tags": "retag",
        "bio": "rewrite_bio",
    }

    @staticmethod
    def create_id(user_id: str, **_: Any) -> UUID:
        return aggregate_id(TableKind.USERS, (user_id,))

    @classmethod
    def creation(cls, item: UserItem, aggregate_id: UUID | None = None) -> Any:
        return cls._create_from(cls.Registered, item, aggregate_id)

    def restore(self, item: UserItem) -> None:
        self.trigger_event(self.Restored, **attribute_values(item))

    def change_email(self, email: str) -> None:
        self.trigger_event(self.EmailChanged, email=email)

    def rename(self, name: str) -> None:
        self.trigger_event(self.Renamed, name=name)

    def change_plan(self, plan: str) -> None:
        self.trigger_event(self.PlanChanged, plan=plan, previous_plan=self.plan)

    def move_country(self, country: str) -> None:
        self.trigger_event(self.CountryChanged, country=country)

    def correct_signup_date(self, created_at: str) -> None:
        self.trigger_event(self.SignupDateCorrected, created_at=created_at)

    def change_marketing_consent(self, marketing_opt_in: bool) -> None:
        self.trigger_event(self.MarketingConsentChanged, marketing_opt_in=marketing_opt_in)

    def retag(self, tags: list[str] | None) -> None:
        self.trigger_event(self.TagsChanged, tags=tags)

    def rewrite_bio(self, bio: str | None) -> None:
        self.trigger_event(self.BioChanged, bio=bio)

    def delete(self, *, expired: bool) -> None:
        self.trigger_event(self.Deleted, expired=expired)


UserRegistered = User.Registered
UserRestored = User.Restored
UserEmailChanged = User.EmailChanged
UserRenamed = User.Renamed
UserPlanChanged = User.PlanChanged
UserCountryChanged = User.CountryChanged
UserSignupDateCorrected = User.SignupDateCorrected
UserMarketingConsentChanged = User.MarketingConsentChanged
UserTagsChanged = User.TagsChanged
UserBioChanged = User.BioChanged
UserDeleted = User.Deleted
