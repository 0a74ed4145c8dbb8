"""Tools for people working on streamfold: the demo workload and the benchmarks.

Installed with the package so that `streamfold demo` and `streamfold bench` run from a
checkout, but never shipped in the Lambda package (`deploy/build_lambda.py` copies only
`domain`, `projections` and `infrastructure`).
"""
