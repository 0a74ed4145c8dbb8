"""The parts of a full rebuild: slices of aggregate ids, their fold, and their rendering."""
