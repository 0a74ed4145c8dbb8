"""The ``streamfold`` command line."""
