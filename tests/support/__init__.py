"""Test support: reference documents, a moto DynamoDB server, workloads and bad delivery."""
