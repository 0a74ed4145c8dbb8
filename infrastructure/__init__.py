"""The outside world: entry points, the composition root, services and adapters.

Layers, each importing only those below it (checked by import-linter, `make check`):
`entrypoints` (and `lambda_handlers`) -> `composition` -> `services` -> `adapters`, then
`projections` and `domain`. `settings` and `heap` are leaves any layer may use.
"""
