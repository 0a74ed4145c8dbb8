"""Realistic user profiles: names, e-mail addresses, plans, countries, tags and bios."""

from __future__ import annotations

import random
import unicodedata
from itertools import accumulate
from typing import Any

from devtools.demo.vocabulary import (
    CITIES,
    COUNTRIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    INTERESTS,
    LAST_NAMES,
    PLANS,
    ROLES,
    USER_TAGS,
)

_COUNTRY_CODES = tuple(code for code, _ in COUNTRIES)
_COUNTRY_WEIGHTS = tuple(accumulate(weight for _, weight in COUNTRIES))
_PLAN_NAMES = tuple(plan for plan, _ in PLANS)
_PLAN_WEIGHTS = tuple(accumulate(weight for _, weight in PLANS))
# Letters that NFKD does not decompose into an ASCII base letter.
_ASCII_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "'": ""})


def new_user(rng: random.Random, user_id: str, created_at: str) -> dict[str, Any]:
    """A users item of the reference domain.

    >>> sorted(new_user(random.Random(3), "usr_1", "2024-03-05T10:15:00Z"))[:4]
    ['country', 'createdAt', 'email', 'marketingOptIn']
    """
    name = person_name(rng)
    item: dict[str, Any] = {
        "userId": user_id,
        "email": email_address(rng, name),
        "name": name,
        "plan": rng.choices(_PLAN_NAMES, cum_weights=_PLAN_WEIGHTS)[0],
        "country": rng.choices(_COUNTRY_CODES, cum_weights=_COUNTRY_WEIGHTS)[0],
        "createdAt": created_at,
        "marketingOptIn": rng.random() < 0.45,
    }
    if rng.random() < 0.4:
        item["tags"] = user_tags(rng)
    if rng.random() < 0.5:
        item["bio"] = bio(rng)
    return item


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def married_name(rng: random.Random, name: str) -> str:
    """The same first name with another last name, or a double-barrelled one."""
    first, _, last = name.partition(" ")
    other = rng.choice(LAST_NAMES)
    return f"{first} {last}-{other}" if rng.random() < 0.3 else f"{first} {other}"


def email_address(rng: random.Random, name: str) -> str:
    """An address derived from the name, as people pick them.

    >>> email_address(random.Random(0), "Łukasz Wiśniewski").endswith(".example")
    True
    """
    first, _, last = _ascii(name).lower().partition(" ")
    last = last.replace(" ", "")
    style = rng.random()
    if style < 0.4:
        local = f"{first}.{last}"
    elif style < 0.6:
        local = f"{first[0]}{last}"
    elif style < 0.8:
        local = f"{first}_{last}{rng.randint(1, 99)}"
    else:
        local = f"{first}{rng.randint(1970, 2006)}"
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def user_tags(rng: random.Random) -> set[str]:
    return set(rng.sample(USER_TAGS, rng.randint(1, 3)))


def bio(rng: random.Random) -> str:
    return f"{rng.choice(ROLES)} based in {rng.choice(CITIES)}. {rng.choice(INTERESTS)}."


def other_plan(rng: random.Random, plan: str) -> str:
    """An upgrade or a downgrade from ``plan``."""
    return rng.choice([other for other in _PLAN_NAMES if other != plan])


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii")
