"""STREAMFOLD_TABLES: which real table holds which kind, and the specs that are refused."""

from __future__ import annotations

import pytest

from domain.kinds import TableKind
from infrastructure.settings import ConfigError, Settings, parse_tables, table_names

# A spec that is wrong, and the one line that says what to do about it.
REFUSED = {
    "semicolons": (
        "users=prod-users;images=prod-images",
        "STREAMFOLD_TABLES: separate the entries with ',' not ';', "
        "e.g. users=prod-users,images=prod-images",
    ),
    "one table, two kinds": (
        "users=prod-users,images=prod-users",
        "STREAMFOLD_TABLES: table 'prod-users' is mapped to both users and images; "
        "a table holds one kind, keep the right one",
    ),
    "one kind, two tables": (
        "users=prod-users,users=prod-members",
        "STREAMFOLD_TABLES: users is mapped to both 'prod-users' and 'prod-members'; "
        "a kind is read from one table, keep one",
    ),
    "unknown kind": (
        "users=prod-users,orders=prod-orders",
        "STREAMFOLD_TABLES: 'orders' is not a kind; use one of users, images, likes, payments",
    ),
    "empty kind": (
        "=prod-users",
        "STREAMFOLD_TABLES: '=prod-users' should be KIND=TABLE_NAME, e.g. users=prod-users",
    ),
    "empty table name": (
        "users=",
        "STREAMFOLD_TABLES: 'users=' should be KIND=TABLE_NAME, e.g. users=prod-users",
    ),
    "no equals sign": (
        "prod-users",
        "STREAMFOLD_TABLES: 'prod-users' should be KIND=TABLE_NAME, e.g. users=prod-users",
    ),
    "an ARN": (
        "users=arn:aws:dynamodb:eu-west-1:123456789012:table/prod-users",
        "STREAMFOLD_TABLES: 'arn:aws:dynamodb:eu-west-1:123456789012:table/prod-users' is not "
        "a DynamoDB table name (3 to 255 letters, digits, '_', '-', '.'); give the table's "
        "name, not its ARN",
    ),
    "spaces in a name": (
        "users=prod users",
        "STREAMFOLD_TABLES: 'prod users' is not a DynamoDB table name (3 to 255 letters, "
        "digits, '_', '-', '.'); give the table's name",
    ),
}


@pytest.mark.parametrize(("spec", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_a_wrong_mapping_is_refused_with_one_line_that_says_what_to_do(
    spec: str, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_tables(spec)

    assert str(refused.value) == message
    assert "\n" not in message


@pytest.mark.parametrize(("spec", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_settings_from_the_environment_refuse_a_wrong_mapping(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^STREAMFOLD_TABLES: "):
        Settings.from_environment({"STREAMFOLD_TABLES": spec})


def test_a_mapping_names_each_table_with_its_kind() -> None:
    mapping = parse_tables(" users = prod-users , images=prod-images,likes=prod.likes_v2,")

    assert mapping == {
        "prod-users": TableKind.USERS,
        "prod-images": TableKind.IMAGES,
        "prod.likes_v2": TableKind.LIKES,
    }


def test_an_entry_repeated_as_it_is_changes_nothing() -> None:
    assert parse_tables("users=prod-users,users=prod-users") == {"prod-users": TableKind.USERS}


def test_no_mapping_reads_each_table_named_after_a_kind_as_that_kind() -> None:
    settings = Settings.from_environment({})

    assert settings.kind_of_table("users") is TableKind.USERS
    assert settings.kind_of_table("payments") is TableKind.PAYMENTS
    assert settings.kind_of_table("prod-users") is None


def test_a_mapping_reads_only_the_tables_it_names() -> None:
    settings = Settings.from_environment({"STREAMFOLD_TABLES": "users=prod-users"})

    assert settings.kind_of_table("prod-users") is TableKind.USERS
    assert settings.kind_of_table("users") is None
    assert settings.kind_of_table("images") is None


def test_each_kind_is_read_from_its_mapped_table_or_from_its_own_name_without_a_mapping() -> None:
    mapping = {"prod-users": TableKind.USERS, "prod-images": TableKind.IMAGES}

    assert table_names(mapping, [TableKind.IMAGES]) == {TableKind.IMAGES: "prod-images"}
    assert table_names({}, [TableKind.LIKES]) == {TableKind.LIKES: "likes"}
    with pytest.raises(ConfigError, match="names no table for likes: add likes=TABLE"):
        table_names(mapping, [TableKind.USERS, TableKind.LIKES])
