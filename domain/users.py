"""The user aggregate: one per item of the users table."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import SourceAggregate
from domain.identity import aggregate_id
from domain.items import UserItem
from domain.kinds import TableKind


class User(SourceAggregate):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class.
    class Event(SourceAggregate.Event):
        pass

    class Created(Event, SourceAggregate.Created):
        pass

    class Registered(Created):
        user_id: str
        email: str
        name: str
        plan: str
        country: str
        created_at: str
        marketing_opt_in: bool
        tags: list[str] | None
        bio: str | None

    class Restored(Event):
        user_id: str
        email: str
        name: str
        plan: str
        country: str
        created_at: str
        marketing_opt_in: bool
        tags: list[str] | None
        bio: str | None

    class EmailChanged(Event):
        email: str

    class Renamed(Event):
        name: str

    class PlanChanged(Event):
        plan: str
        previous_plan: str

    class CountryChanged(Event):
        country: str

    class SignupDateCorrected(Event):
        created_at: str

    class MarketingConsentChanged(Event):
        marketing_opt_in: bool

    class TagsChanged(Event):
        tags: list[str] | None

    class BioChanged(Event):
        bio: str | None

    class Deleted(Event):
        expired: bool

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

    @event(Registered)
    def __init__(
        self,
        user_id: str,
        email: str,
        name: str,
        plan: str,
        country: str,
        created_at: str,
        marketing_opt_in: bool,
        tags: list[str] | None,
        bio: str | None,
    ) -> None:
        self.user_id, self.email, self.name, self.plan = user_id, email, name, plan
        self.country, self.created_at, self.marketing_opt_in = country, created_at, marketing_opt_in
        self.tags, self.bio = tags, bio
        self.deleted = False

    @classmethod
    def from_item(cls, item: UserItem) -> User:
        return cls(**item.model_dump())

    def restore(self, item: UserItem) -> None:
        self._restore(**item.model_dump())

    @event(Restored)
    def _restore(
        self,
        user_id: str,
        email: str,
        name: str,
        plan: str,
        country: str,
        created_at: str,
        marketing_opt_in: bool,
        tags: list[str] | None,
        bio: str | None,
    ) -> None:
        self.email, self.name, self.plan = email, name, plan
        self.country, self.created_at, self.marketing_opt_in = country, created_at, marketing_opt_in
        self.tags, self.bio = tags, bio
        self.deleted = False

    @event(EmailChanged)
    def change_email(self, email: str) -> None:
        self.email = email

    @event(Renamed)
    def rename(self, name: str) -> None:
        self.name = name

    def change_plan(self, plan: str) -> None:
        self._change_plan(plan=plan, previous_plan=self.plan)

    @event(PlanChanged)
    def _change_plan(self, plan: str, previous_plan: str) -> None:
        self.plan = plan

    @event(CountryChanged)
    def move_country(self, country: str) -> None:
        self.country = country

    @event(SignupDateCorrected)
    def correct_signup_date(self, created_at: str) -> None:
        self.created_at = created_at

    @event(MarketingConsentChanged)
    def change_marketing_consent(self, marketing_opt_in: bool) -> None:
        self.marketing_opt_in = marketing_opt_in

    @event(TagsChanged)
    def retag(self, tags: list[str] | None) -> None:
        self.tags = tags

    @event(BioChanged)
    def rewrite_bio(self, bio: str | None) -> None:
        self.bio = bio

    @event(Deleted)
    def delete(self, *, expired: bool) -> None:
        self.deleted = True


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
