"""Tools for measuring and testing streamfold; never part of a deployed handler."""
