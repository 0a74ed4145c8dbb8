"""AWS clients are made in the region people set, whichever of the two variables they use."""

from __future__ import annotations

from infrastructure.adapters.aws_clients import aws_client, configured_region


def test_aws_region_is_honoured_and_wins_over_aws_default_region() -> None:
    both = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"}

    assert configured_region(both) == "eu-west-1"
    assert aws_client("dynamodb", {"AWS_REGION": "eu-west-1"}).meta.region_name == "eu-west-1"


def test_aws_default_region_alone_still_works() -> None:
    assert configured_region({"AWS_DEFAULT_REGION": "ap-south-1"}) == "ap-south-1"
    assert configured_region({"AWS_REGION": ""}) is None
