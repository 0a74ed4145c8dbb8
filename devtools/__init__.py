"""Tools for people working on streamfold: the demo workload, the benchmarks, and a loopback
proxy that adds latency and counts round trips (`latency_proxy`).

Installed with the package so that `streamfold demo` and `streamfold bench` run from a
checkout, but never shipped in the Lambda package (`deploy/build_lambda.py` copies only
`domain`, `projections` and `infrastructure`).
"""
