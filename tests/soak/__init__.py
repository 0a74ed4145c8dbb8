"""A bounded soak under steady load; marked slow, run by `make soak`."""
