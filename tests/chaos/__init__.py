"""Seeded chaos: bad delivery, several handler processes, SIGKILL mid-batch, bad records."""
