"""The history of a document: its changes, its past states and why its counts are what they are."""
