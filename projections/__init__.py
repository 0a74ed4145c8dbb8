"""The read side: folds of domain events into search documents, and the ports they use."""
