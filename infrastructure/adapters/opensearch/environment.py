"""Environment variables the OpenSearch backend reads, besides those in `infrastructure.settings`.

>>> os.environ[OPENSEARCH_VERIFY_CERTS] = "false"  # a test cluster with a self-signed certificate
"""

from __future__ import annotations

OPENSEARCH_USER = "STREAMFOLD_OPENSEARCH_USER"
OPENSEARCH_PASSWORD = "STREAMFOLD_OPENSEARCH_PASSWORD"  # noqa: S105 - a variable name, not a secret
OPENSEARCH_VERIFY_CERTS = "STREAMFOLD_OPENSEARCH_VERIFY_CERTS"

# Read for SigV4 when the host name does not tell the region (a custom domain endpoint).
AWS_REGION = "AWS_REGION"
AWS_DEFAULT_REGION = "AWS_DEFAULT_REGION"
