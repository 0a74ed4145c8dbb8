"""The SAM template passes cfn-lint and keeps its promises; the Lambda package is lean."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from infrastructure.services.observability import metrics

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "template.yaml"
KINDS = ("Users", "Images", "Likes", "Payments")
# Actions AWS offers no resource-level permission for.
RESOURCELESS_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "dynamodb:ListStreams",
    "ecr:GetAuthorizationToken",
}


@pytest.fixture(scope="module")
def template() -> Any:
    return cfn_yaml.load(str(TEMPLATE))


def resources(template: Any, kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def statements(template: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, role in resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def test_the_template_passes_cfn_lint() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")

    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr


def test_each_source_table_has_a_mapping_with_partial_batch_responses_and_a_destination(
    template: Any,
) -> None:
    function = template["Resources"]["StreamHandlerFunction"]["Properties"]
    events = function["Events"]

    assert function["Handler"] == "infrastructure.lambda_handlers.stream_handler"
    assert sorted(events) == sorted(f"{kind}Stream" for kind in KINDS)
    for kind in KINDS:
        source = events[f"{kind}Stream"]
        assert source["Type"] == "DynamoDB"
        mapping = source["Properties"]
        assert mapping["Stream"] == {"Ref": f"{kind}StreamArn"}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["MaximumRetryAttempts"] == {"Ref": "MaximumRetryAttempts"}
        assert mapping["ParallelizationFactor"] == {"Ref": "ParallelizationFactor"}
        on_failure = mapping["DestinationConfig"]["OnFailure"]["Destination"]
        assert on_failure == {"Fn::GetAtt": ["OnFailureQueue", "Arn"]}


def test_table_names_and_sizes_are_parameters(template: Any) -> None:
    parameters = template["Parameters"]

    for kind in KINDS:
        assert f"{kind}TableName" in parameters and f"{kind}StreamArn" in parameters
    for size in ("OpenSearchInstanceType", "OpenSearchInstanceCount", "OpenSearchVolumeGiB",
                 "DatabaseMinCapacity", "DatabaseMaxCapacity", "BatchSize",
                 "ParallelizationFactor", "StreamHandlerMemoryMiB"):  # fmt: skip
        assert size in parameters


def test_the_query_api_sits_behind_a_jwt_authorizer(template: Any) -> None:
    api = template["Resources"]["QueryApi"]["Properties"]
    function = template["Resources"]["QueryApiFunction"]["Properties"]

    assert api["Auth"]["DefaultAuthorizer"] == "CrmJwt"
    assert "JwtConfiguration" in api["Auth"]["Authorizers"]["CrmJwt"]
    assert function["Handler"] == "infrastructure.lambda_handlers.http_handler"
    assert function["Events"]["Queries"]["Properties"]["ApiId"] == {"Ref": "QueryApi"}


def test_the_search_domain_is_private_encrypted_and_access_controlled(template: Any) -> None:
    domain = template["Resources"]["SearchDomain"]["Properties"]

    assert "VPCOptions" in domain
    assert domain["EncryptionAtRestOptions"]["Enabled"] is True
    assert domain["NodeToNodeEncryptionOptions"]["Enabled"] is True
    assert domain["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert domain["AdvancedSecurityOptions"]["Enabled"] is True


def test_the_event_store_is_encrypted_and_its_password_lives_in_a_secret(template: Any) -> None:
    cluster = template["Resources"]["EventStoreCluster"]

    assert cluster["Properties"]["Engine"] == "aurora-postgresql"
    assert cluster["Properties"]["StorageEncrypted"] is True
    assert "ServerlessV2ScalingConfiguration" in cluster["Properties"]
    assert "{{resolve:secretsmanager:" in str(cluster["Properties"]["MasterUserPassword"])
    assert cluster["DeletionPolicy"] == "Snapshot"


def test_no_role_grants_every_action_and_wildcard_resources_only_where_aws_requires(
    template: Any,
) -> None:
    for role, statement in statements(template):
        actions = as_list(statement["Action"])
        assert all("*" not in action for action in actions), (role, actions)
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= RESOURCELESS_ACTIONS, (role, actions)


def test_the_stream_handler_may_read_each_source_table_item_by_item(template: Any) -> None:
    granted = [
        str(statement["Resource"])
        for role, statement in statements(template)
        if role == "StreamHandlerRole" and "dynamodb:GetItem" in as_list(statement["Action"])
    ]

    assert len(granted) == 1
    assert all(f"${{{kind}TableName}}" in granted[0] for kind in KINDS)


def test_alarms_watch_iterator_age_failures_dead_letters_and_lag(template: Any) -> None:
    watched = {
        (alarm["Properties"]["Namespace"], alarm["Properties"]["MetricName"])
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
    }

    assert {
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/Lambda", "Errors"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("Streamfold", metrics.DEAD_LETTERS),
        ("Streamfold", metrics.RECORDS_TO_RETRY),
        ("Streamfold", metrics.END_TO_END_LAG),
    } <= watched


def build_lambda_package(output: Path) -> None:
    script = ROOT / "deploy" / "build_lambda.py"
    subprocess.run(
        [sys.executable, str(script), "--output", str(output), "--no-dependencies"],
        check=True,
        capture_output=True,
    )


IMPORT_THE_HANDLERS = """
import importlib.abc, sys
class LeftOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tantivy", "rich"):
            raise ImportError(f"{name} is not in the Lambda package")
        return None
sys.meta_path.insert(0, LeftOut())
import infrastructure, infrastructure.lambda_handlers, infrastructure.adapters.opensearch
assert infrastructure.__file__.startswith(sys.argv[1]), infrastructure.__file__
print("imported")
"""


def test_the_lambda_package_runs_the_handlers_without_the_embedded_index_or_the_cli(
    tmp_path: Path,
) -> None:
    package = tmp_path / "lambda"
    build_lambda_package(package)

    imported = subprocess.run(
        [sys.executable, "-c", IMPORT_THE_HANDLERS, str(package)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(package), "PATH": "/usr/bin:/bin"},
    )

    assert imported.stdout.strip() == "imported", imported.stderr
    assert (package / "infrastructure" / "lambda_handlers.py").exists()
    assert (package / "infrastructure" / "adapters" / "opensearch").is_dir()
    for left_out in ("adapters/embedded", "entrypoints/cli"):
        assert not (package / "infrastructure" / left_out).exists()
    assert not (package / "devtools").exists()  # no demo workload, no benchmarks


def test_the_lambda_requirements_leave_out_tantivy_and_rich() -> None:
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import build_lambda
    finally:
        sys.path.remove(str(ROOT / "deploy"))

    requirements = " ".join(build_lambda.lambda_requirements())

    assert "tantivy" not in requirements and "rich" not in requirements
    assert "aws-lambda-powertools" in requirements and "opensearch-py" in requirements


def test_the_writing_functions_take_the_refresh_policy_from_a_parameter(template: Any) -> None:
    parameter = template["Parameters"]["RefreshPolicy"]
    every_function = template["Globals"]["Function"]["Environment"]["Variables"]

    assert parameter["Default"] == "false"
    assert sorted(parameter["AllowedValues"]) == ["false", "wait_for"]
    assert every_function["STREAMFOLD_REFRESH"] == {"Ref": "RefreshPolicy"}
