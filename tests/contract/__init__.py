"""Behaviour every adapter of a port must show, written once and run against each adapter."""
