"""Slices and buckets of a rebuild cover every aggregate id exactly once."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infrastructure.services.rebuilding.slices import (
    Partition,
    PartitionError,
    bucket_range,
    buckets_for,
    slice_range,
)


@given(
    aggregate=st.uuids(),
    count=st.integers(min_value=1, max_value=64),
    buckets=st.integers(min_value=1, max_value=50),
)
def test_every_id_is_in_exactly_one_bucket_of_exactly_one_slice(
    aggregate: uuid.UUID, count: int, buckets: int
) -> None:
    owners = [
        (index, bucket)
        for index in range(count)
        for bucket in range(buckets)
        if bucket_range(Partition(index, count), buckets, bucket).contains(aggregate.hex)
    ]
    assert len(owners) == 1
    index, _ = owners[0]
    assert slice_range(Partition(index, count)).contains(aggregate.hex)
    assert sum(slice_range(Partition(k, count)).contains(aggregate.hex) for k in range(count)) == 1


@pytest.mark.parametrize("boundary", ["00000000", "7fffffff", "80000000", "ffffffff"])
def test_ids_on_a_boundary_belong_to_the_slice_that_starts_there(boundary: str) -> None:
    aggregate = boundary + "0" * 24
    owners = [k for k in range(2) if slice_range(Partition(k, 2)).contains(aggregate)]
    assert owners == [0 if boundary < "80000000" else 1]


def test_buckets_keep_commits_near_the_batch_size() -> None:
    assert buckets_for(100_000, 1, 10_000) == 10
    assert buckets_for(100_001, 4, 10_000) == 3  # 25,001 events per slice
    assert buckets_for(0, 3, 10_000) == 1


@pytest.mark.parametrize("text", ["3/3", "-1/2", "1/0", "a/b", "1", "0/5000"])
def test_a_partition_names_one_of_n_slices(text: str) -> None:
    with pytest.raises(PartitionError):
        Partition.parse(text)
    assert Partition.parse(" 2 / 8 ") == Partition(2, 8)
