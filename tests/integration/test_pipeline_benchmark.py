"""The pipeline benchmark's figures count what they claim: the grouped path and the lower bound."""

from __future__ import annotations

import gc

import pytest
from boto3.dynamodb.types import TypeDeserializer

import devtools.benchmarks.pipeline as pipeline_benchmark
from devtools.benchmarks.lower_bound import _final_documents
from devtools.benchmarks.pipeline import describe, measure_pipeline, summarize
from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.streams.attribute_values import deserialize_image
from infrastructure.heap import YOUNG_GENERATION_THRESHOLD
from projections.documents import DocumentKind


def test_the_lower_bound_indexes_each_live_final_document_once() -> None:
    writes = [
        {DocumentKind.USERS: [("u-1", '{"id":"u-1","deleted":false}'),
                              ("u-2", '{"id":"u-2","deleted":false}')]},
        {DocumentKind.USERS: [("u-1", '{"id":"u-1","deleted":true}')],
         DocumentKind.IMAGES: [("i-1", '{"id":"i-1","version":2,"deleted":false}')]},
        {DocumentKind.IMAGES: [("i-1", '{"id":"i-1","version":3,"deleted":false}')]},
    ]  # fmt: skip

    final = _final_documents(writes)

    assert final[DocumentKind.USERS] == [("u-2", '{"id":"u-2","deleted":false}')]
    assert final[DocumentKind.IMAGES] == [("i-1", '{"id":"i-1","version":3,"deleted":false}')]


def test_a_small_run_takes_the_grouped_path_and_bounds_it_by_the_whole_job() -> None:
    figures = measure_pipeline(users=6, batch_size=40)

    described = describe(figures)
    assert figures.groups is not None and figures.lower_bound is not None
    assert figures.groups.records == figures.records
    assert figures.groups.at_end == 1  # everything searchable when the run ends
    # The bound indexes the live documents the pipeline left searchable, once each.
    assert figures.lower_bound.documents == sum(figures.documents.values())
    assert figures.lower_bound.events >= figures.documents["users"]
    assert described["lower_bound_counts"] == {
        "events": figures.lower_bound.events,
        "documents": figures.lower_bound.documents,
    }
    # The recording ends before the settle at the end; every live document was written.
    assert 0 < figures.recording_seconds < figures.pipeline_seconds
    assert described["recording_to_floor_ratio"] < described["pipeline_to_floor_ratio"]
    assert figures.documents_written >= figures.lower_bound.documents


def test_a_run_past_one_hand_over_settles_in_the_second_process_and_records_its_writes() -> None:
    # About 8,000 records: the first 5,000 go to the idle second process.
    two = measure_pipeline(users=300, batch_size=500)
    one = measure_pipeline(users=300, batch_size=500, second_process=False)

    assert two.groups is not None and one.groups is not None and two.lower_bound is not None
    assert two.groups.in_background >= 1 and one.groups.in_background == 0
    assert two.documents == one.documents  # the same documents either way
    # The writes of both processes were replayed: every final document is indexed once.
    assert two.lower_bound.documents == sum(two.documents.values())
    # Each process's CPU time is counted: the second one's only where there is one.
    assert two.command_cpu_seconds > 0 and two.second_process_cpu_seconds > 0
    assert one.command_cpu_seconds > 0 and one.second_process_cpu_seconds == 0
    assert two.shared_cpu_seconds == (two.command_cpu_seconds + two.second_process_cpu_seconds) / 2


def test_runs_are_summarized_as_the_median_run_with_the_spread_of_its_figures() -> None:
    runs = [describe(measure_pipeline(users=6, batch_size=40)) for _ in range(3)]

    summary = summarize(runs)

    ratios = sorted(run["pipeline_to_floor_ratio"] for run in runs)
    assert summary["pipeline_to_floor_ratio"] == {
        "median": ratios[1],
        "min": ratios[0],
        "max": ratios[2],
    }
    rates = sorted(run["pipeline_records_per_second"] for run in runs)
    assert summary["pipeline_records_per_second"]["median"] == rates[1]
    median_runs = [run for run in runs if run["pipeline_to_floor_ratio"] == ratios[1]]
    assert summary["stage_seconds"] in [run["stage_seconds"] for run in median_runs]
    assert summary["runs"] == 3 and len(summary["each_run"]) == 3


def test_the_floor_is_timed_under_the_collector_settings_the_pipeline_runs_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the pipeline runs with (`infrastructure.heap`), and the defaults beside it.
    timed = pipeline_benchmark.decode_floor
    thresholds: list[int] = []

    def watched(payloads: list[str]) -> float:
        thresholds.append(gc.get_threshold()[0])
        return timed(payloads)

    monkeypatch.setattr(pipeline_benchmark, "decode_floor", watched)
    default_young = gc.get_threshold()[0]

    figures = measure_pipeline(users=6, batch_size=40)

    # Before the run, then after it.
    assert thresholds == ([YOUNG_GENERATION_THRESHOLD] * 3 + [default_young] * 3) * 2
    described = describe(figures)
    assert described["default_collector_floor_records_per_second"] == round(
        figures.records / figures.default_collector_floor_seconds
    )


def test_each_floor_is_the_fastest_of_its_passes_before_and_after_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Timed at a slow moment on one side, a floor would flatter the run's ratio.
    passes = iter(
        [
            *(3.0, 2.0, 2.5),  # under the pipeline's collector, before the run
            *(5.0, 5.0, 5.0),  # under Python's defaults, before
            *(1.5, 4.0, 4.0),  # under the pipeline's collector, after the run
            *(6.0, 4.5, 6.0),  # under Python's defaults, after
        ]
    )
    monkeypatch.setattr(pipeline_benchmark, "decode_floor", lambda payloads: next(passes))
    # The same decoding as streamfold does it, before the run and after it.
    own = iter([*(1.4, 1.2, 1.3), *(1.1, 2.0, 2.0)])
    monkeypatch.setattr(pipeline_benchmark, "decode_as_streamfold", lambda files: next(own))

    figures = measure_pipeline(users=6, batch_size=40)

    assert figures.floor_seconds == 1.5
    assert figures.default_collector_floor_seconds == 4.5
    assert figures.own_decoding_seconds == 1.1
    assert next(passes, None) is None and next(own, None) is None
    # The lower bound decodes as the faster of the two does.
    assert figures.lower_bound is not None and figures.lower_bound.decode_seconds == 1.1
    described = describe(figures)
    assert described["own_decoding_records_per_second"] == round(figures.records / 1.1)
    assert described["pipeline_to_own_decoding_ratio"] == round(figures.pipeline_seconds / 1.1, 2)


def test_streamfolds_own_decoding_gives_the_values_the_floors_decoder_gives() -> None:
    # The two decodings compared are the same work: the same values out of the same records.
    workload = CrmWorkload(seed=3, users=20)
    deserializer = TypeDeserializer()
    images = 0
    for event in lambda_events(workload.records, 100):
        for record in event["Records"]:
            for name in ("Keys", "NewImage", "OldImage"):
                if name in record["dynamodb"]:
                    image = record["dynamodb"][name]
                    reference = {k: deserializer.deserialize(v) for k, v in image.items()}
                    assert deserialize_image(image, name) == reference
                    images += 1
    assert images > len(workload.records)  # keys and new images at least
