"""Text in every language, the same on every search backend.

A backend's test class inherits `MultilingualContract` and provides ``service``: a
`SearchService` over an index of that backend holding `MULTILINGUAL` (written once per
class). Accents, ``ß``, case and how an accent is written (with its letter or apart) never
matter; Chinese, Japanese and Korean words are found inside text written without spaces;
Arabic is found and highlighted; emoji are no words: they match nothing and break nothing.
Highlights wrap whole characters with their accents and keep the text as written.
"""

from __future__ import annotations

from typing import Any

import pytest

from projections.documents import DocumentChange, DocumentKind
from projections.search import SearchService

IMAGES = DocumentKind.IMAGES
COMBINED_CAFE = "Cafe\u0301"  # "Café" with the accent written apart (NFD)

# (id, title, description)
TEXTS = [
    ("m-flore", "Café de Flore", "Terrace in the morning."),
    ("m-lait", f"{COMBINED_CAFE} au lait", "A cup on a wooden table."),
    ("m-zurich", "Zürich old town", "Roofs along the Limmat."),
    ("m-fuss", "Am Fuß des Berges", "Eine Straße im Schnee."),
    ("m-tokyo", "東京の夜景", "Tokyo by night."),
    ("m-kyoto", "京都の寺", "A temple in Kyoto."),
    ("m-beijing", "北京烤鸭", "Peking duck."),
    ("m-seoul", "서울의 밤", "Seoul at night."),
    ("m-cairo", "القاهرة في الليل", "Cairo at night."),
    ("m-pizza", "Pizza night 🍕🎉", "Friends around the oven."),
    ("m-family", "👨‍👩‍👧 Family picnic", "Blankets on the grass."),
    ("m-lake", "Mountain lake", "Still water."),
    ("m-heart", "I ❤️ Paris, 1️⃣ day", "A weekend by the Seine."),
]


def _image(image_id: str, title: str, description: str) -> DocumentChange:
    body = {"image_id": image_id, "title": title, "description": description, "status": "active"}
    return DocumentChange(IMAGES, image_id, 1, body)


MULTILINGUAL = [_image(*row) for row in TEXTS]


def found(service: SearchService, text: str, **options: Any) -> set[str]:
    return {hit.id for hit in service.search(IMAGES, text=text, size=50, **options).hits}


def title_highlight(service: SearchService, text: str, image_id: str) -> list[str]:
    page = service.search(IMAGES, text=text, size=50)
    (hit,) = [hit for hit in page.hits if hit.id == image_id]
    return hit.highlight["title"]


class MultilingualContract:
    @pytest.fixture(scope="class")
    def service(self) -> SearchService:
        raise NotImplementedError

    @pytest.mark.parametrize("text", ["cafe", "café", "CAFÉ", COMBINED_CAFE])
    def test_accents_case_and_how_an_accent_is_written_do_not_matter(
        self, service: SearchService, text: str
    ) -> None:
        assert found(service, text) == {"m-flore", "m-lait"}

    @pytest.mark.parametrize("text", ["zurich", "Zürich", "ZURICH", "zurch"])
    def test_a_city_is_found_with_or_without_its_umlaut_and_with_a_typo(
        self, service: SearchService, text: str
    ) -> None:
        assert found(service, text) == {"m-zurich"}

    @pytest.mark.parametrize("text", ["fuss", "Fuß", "FUSS"])
    def test_sharp_s_and_ss_are_the_same(self, service: SearchService, text: str) -> None:
        assert found(service, text) == {"m-fuss"}

    def test_sharp_s_inside_a_word_is_found_as_ss(self, service: SearchService) -> None:
        assert found(service, "strasse") == {"m-fuss"}
        assert title_highlight(service, "fuss", "m-fuss") == ["Am <em>Fuß</em> des Berges"]

    def test_a_highlight_wraps_an_accent_written_apart_and_keeps_the_text(
        self, service: SearchService
    ) -> None:
        assert title_highlight(service, "cafe", "m-lait") == [f"<em>{COMBINED_CAFE}</em> au lait"]
        assert title_highlight(service, "cafe", "m-flore") == ["<em>Café</em> de Flore"]

    def test_every_word_is_needed_whatever_its_accents(self, service: SearchService) -> None:
        page = service.search(IMAGES, text="café lait")
        assert [hit.id for hit in page.hits] == ["m-lait"]
        assert page.matched == "all_words"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("東京", {"m-tokyo"}),
            ("夜景", {"m-tokyo"}),
            ("東京の夜景", {"m-tokyo"}),
            ("京都", {"m-kyoto"}),
            ("京", {"m-tokyo", "m-kyoto", "m-beijing"}),
            ("寺", {"m-kyoto"}),
        ],
    )
    def test_japanese_words_are_found_inside_text_without_spaces(
        self, service: SearchService, text: str, expected: set[str]
    ) -> None:
        assert found(service, text) == expected

    def test_a_japanese_word_is_highlighted_where_it_stands(self, service: SearchService) -> None:
        assert title_highlight(service, "東京", "m-tokyo") == ["<em>東京</em>の夜景"]

    @pytest.mark.parametrize("text", ["北京", "烤鸭", "北京烤鸭"])
    def test_chinese_words_are_found_inside_text_without_spaces(
        self, service: SearchService, text: str
    ) -> None:
        assert found(service, text) == {"m-beijing"}

    def test_a_korean_word_is_found_before_its_particle(self, service: SearchService) -> None:
        assert found(service, "서울") == {"m-seoul"}
        # The word is marked whole, particle included, like a word a prefix search began.
        assert title_highlight(service, "서울", "m-seoul") == ["<em>서울의</em> 밤"]
        assert found(service, "울의") == set()

    @pytest.mark.parametrize("text", ["القاهرة", "القَاهِرَة"])
    def test_arabic_is_found_with_or_without_short_vowels(
        self, service: SearchService, text: str
    ) -> None:
        assert found(service, text) == {"m-cairo"}
        assert title_highlight(service, text, "m-cairo") == ["<em>القاهرة</em> في الليل"]

    def test_emoji_in_a_title_break_neither_search_nor_highlights(
        self, service: SearchService
    ) -> None:
        assert title_highlight(service, "pizza", "m-pizza") == ["<em>Pizza</em> night 🍕🎉"]
        assert title_highlight(service, "picnic", "m-family") == ["👨‍👩‍👧 Family <em>picnic</em>"]

    def test_an_emoji_with_a_variation_selector_is_no_word_either(
        self, service: SearchService
    ) -> None:
        assert found(service, "❤️") == set()
        assert title_highlight(service, "paris", "m-heart") == ["I ❤️ <em>Paris</em>, 1️⃣ day"]

    def test_an_emoji_is_no_word_and_matches_nothing(self, service: SearchService) -> None:
        assert found(service, "🍕") == set()
        assert service.count(IMAGES, text="🍕") == 0
        assert found(service, "🍕 pizza") == {"m-pizza"}

    def test_latin_typos_are_still_tolerated(self, service: SearchService) -> None:
        assert found(service, "montain") == {"m-lake"}
        assert found(service, "mountian lkae") == {"m-lake"}
