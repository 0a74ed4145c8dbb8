"""What each search backend's index holds, compared backend-neutrally by migrations.

- `definitions`: fields and settings of an index, and the changes between two of them.
- `opensearch`, `embedded`: each backend's side of that.
- `backends`: reading the live index's definition and version, changing it in place.
"""
