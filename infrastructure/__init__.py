"""Adapters, the composition root and the entry points (Lambda, CLI, HTTP)."""
