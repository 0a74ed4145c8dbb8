"""The indices, aliases and templates of each document kind, created idempotently.

For each kind the cluster holds an index template (``<prefix>-users-*``), one or more
physical indices (``<prefix>-users-v1``, ...) and the alias ``<prefix>-users`` pointing at
exactly one of them. The alias carries a filter hiding tombstones, so that whoever reads
the alias directly (OpenSearch Dashboards, ad-hoc queries) never sees deleted documents;
writes and gets by id are not affected by alias filters.

Every method may be repeated and may run in several processes at once: creating what
already exists is not an error, and an alias moves with one atomic ``_aliases`` request.

>>> layout = IndexLayout(client, IndexNames("streamfold"))
>>> layout.ensure(timeout=10.0)
>>> layout.alias_target(DocumentKind.USERS, timeout=10.0)
'streamfold-users-v1'
"""

from __future__ import annotations

from typing import Any

from opensearchpy import NotFoundError, OpenSearch, RequestError

from infrastructure.adapters.opensearch.mappings import index_body, index_template, live_documents
from infrastructure.adapters.opensearch.names import IndexNames
from projections.documents import DocumentKind


class LayoutConflict(ValueError):
    """The cluster holds something in the way that a person must look at."""


class IndexLayout:
    """Creates and inspects the kinds' templates, physical indices and aliases."""

    def __init__(self, client: OpenSearch, names: IndexNames) -> None:
        self._client = client
        self._names = names

    def ensure(self, timeout: float, *, write_templates: bool = False) -> None:
        """An index and an alias for every kind that has no alias yet, and its template.

        With ``write_templates`` every kind's template is written, even when its alias
        exists. Without, a cluster where every alias exists is only read: a reader whose
        role may not manage indices or templates still gets through.
        """
        missing = [kind for kind in DocumentKind if self.alias_target(kind, timeout) is None]
        for kind in list(DocumentKind) if write_templates else missing:
            self.put_template(kind, timeout)
        for kind in missing:
            name = self._names.physical(kind)
            self.create_physical(kind, name, timeout)
            self._point_alias(kind, name, None, timeout)

    def put_template(self, kind: DocumentKind, timeout: float) -> None:
        self._client.indices.put_index_template(
            name=self._names.template(kind),
            body=index_template(kind, self._names.pattern(kind)),
            request_timeout=timeout,
        )

    def create_physical(self, kind: DocumentKind, name: str, timeout: float) -> None:
        """Create the physical index with the kind's settings and mappings (no-op if it exists)."""
        try:
            self._client.indices.create(index=name, body=index_body(kind), request_timeout=timeout)
        except RequestError as error:
            if error.error != "resource_already_exists_exception":
                raise

    def alias_target(self, kind: DocumentKind, timeout: float) -> str | None:
        """The physical index behind the kind's alias; None when there is no alias."""
        alias = self._names.alias(kind)
        try:
            found = self._client.indices.get_alias(name=alias, request_timeout=timeout)
        except NotFoundError:
            return None
        targets = sorted(found)
        if len(targets) != 1:
            raise LayoutConflict(
                f"alias {alias!r} points to {len(targets)} indices ({', '.join(targets)}); "
                "point it at exactly one"
            )
        return targets[0]

    def swap_alias(self, kind: DocumentKind, physical: str, timeout: float) -> str | None:
        """Point the kind's alias at ``physical`` in one atomic request; returns the previous."""
        self._check_physical(kind, physical, timeout)
        previous = self.alias_target(kind, timeout)
        self._point_alias(kind, physical, previous, timeout)
        return previous

    def _point_alias(
        self, kind: DocumentKind, physical: str, previous: str | None, timeout: float
    ) -> None:
        alias = self._names.alias(kind)
        actions: list[dict[str, Any]] = []
        # Removing from the index read just before makes the request fail, rather than
        # leave the alias on two indices, if another process moved it in between.
        if previous is not None and previous != physical:
            actions.append({"remove": {"index": previous, "alias": alias}})
        actions.append({"add": {"index": physical, "alias": alias, "filter": live_documents()}})
        self._client.indices.update_aliases(body={"actions": actions}, request_timeout=timeout)

    def _check_physical(self, kind: DocumentKind, physical: str, timeout: float) -> None:
        try:
            found = self._client.indices.get_mapping(index=physical, request_timeout=timeout)
        except NotFoundError:
            raise LayoutConflict(
                f"no physical index {physical!r} to point the alias at; create it first"
            ) from None
        if physical not in found:  # `physical` names an alias, not an index
            raise LayoutConflict(f"{physical!r} is not a physical index")
        meta = found[physical].get("mappings", {}).get("_meta", {})
        if meta.get("kind", kind.value) != kind.value:
            raise LayoutConflict(f"{physical!r} holds {meta['kind']} documents, not {kind.value}")
