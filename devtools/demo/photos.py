"""Realistic image items: English titles, descriptions and tags that search well."""

from __future__ import annotations

import random
from typing import Any

from devtools.demo.vocabulary import (
    CAMERA_NOTES,
    CURATION_TAGS,
    PLACES,
    STYLES,
    SUBJECTS,
    Subject,
)

_STYLE_TAGS = {
    "Long exposure": "long-exposure",
    "Aerial view": "aerial",
    "Black and white photo": "black-and-white",
    "Film photo": "film",
    "Drone shot": "drone",
    "Panorama": "panorama",
}


def new_image(rng: random.Random, image_id: str, owner_id: str, created_at: str) -> dict[str, Any]:
    """An images item of the reference domain.

    >>> image = new_image(random.Random(5), "img_1", "usr_1", "2024-03-05T10:15:00Z")
    >>> image["status"], image["imageUrl"]
    ('active', 'https://cdn.images.example/i/img_1.jpg')
    """
    item: dict[str, Any] = {
        "imageId": image_id,
        "userId": owner_id,
        "imageUrl": f"https://cdn.images.example/i/{image_id}.jpg",
        "createdAt": created_at,
        "status": "active",
        "sizeBytes": int(rng.lognormvariate(14.5, 0.7)),
    }
    item.update(image_content(rng))
    return item


def image_content(rng: random.Random) -> dict[str, Any]:
    """Title, and usually a description and tags, for a freshly drawn subject."""
    subject = rng.choice(SUBJECTS)
    style = rng.choice(STYLES)
    place = rng.choice(PLACES) if rng.random() < 0.6 else None
    content: dict[str, Any] = {"title": title(style, subject, place)}
    if rng.random() < 0.85:
        content["description"] = description(rng, subject, place)
    if rng.random() < 0.8:
        content["tags"] = tags(style, subject, place)
    return content


def title(style: str, subject: Subject, place: str | None) -> str:
    """A title that reads like one a photographer would write.

    >>> title("Photography", SUBJECTS[0], "Iceland")
    'Photography of mountains at dawn in Iceland'
    """
    where = f" in {place}" if place else ""
    return f"{style} of {subject.phrase}{where}"


def description(rng: random.Random, subject: Subject, place: str | None) -> str:
    where = f", {place}" if place else ""
    return f"{subject.description}{where}. {rng.choice(CAMERA_NOTES)}"


def tags(style: str, subject: Subject, place: str | None) -> set[str]:
    found = set(subject.tags)
    if style in _STYLE_TAGS:
        found.add(_STYLE_TAGS[style])
    if place:
        found.add(place.removeprefix("the ").lower().replace(" ", "-"))
    return found


def retitled(rng: random.Random, current_title: str) -> str:
    """The same subject under a new style, or the old title marked as edited.

    >>> retitled(random.Random(1), "Photography of a foggy bridge")
    'Aerial view of a foggy bridge'
    """
    style, separator, rest = current_title.partition(" of ")
    if separator and rng.random() < 0.7:
        return f"{rng.choice([s for s in STYLES if s != style])} of {rest}"
    return current_title if current_title.endswith("(edited)") else f"{current_title} (edited)"


def edited(rng: random.Random, image: dict[str, Any]) -> dict[str, Any]:
    """The attribute changes of a curator's edit: tags or description, added or dropped."""
    roll = rng.random()
    current_tags = set(image.get("tags") or ())
    if roll < 0.4:
        return {"tags": current_tags | {rng.choice(CURATION_TAGS)}}
    if roll < 0.55:
        return {"tags": None}
    if roll < 0.85:
        base = image.get("description") or image["title"]
        return {"description": f"{base.split('. ')[0]}. {rng.choice(CAMERA_NOTES)}"}
    return {"description": None}
