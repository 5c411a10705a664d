"""A tenant screen whose saves go through the catalog service's rules and follow-ups."""
from __future__ import annotations

from sqlalchemy import inspect

from app.services import catalog
from views.base import TenantModelView
from views.console import ConsoleInterface


def sync_foreign_keys(item) -> None:
    """Forms set relationships (``item.offering``); the rules read the id columns
    (``item.offering_id``), which SQLAlchemy fills only at flush: fill them now."""
    for rel in inspect(type(item)).relationships:
        if rel.direction.name != "MANYTOONE":
            continue
        target = getattr(item, rel.key)
        for local, remote in rel.local_remote_pairs:
            setattr(item, local.key, None if target is None else getattr(target, remote.key))


class CatalogInterface(ConsoleInterface):
    """The data interface of the catalog screens: Flask-AppBuilder's save (``add``,
    ``edit``, ``delete``), the regeneration of the slots it shapes and the announcement of
    the offerings it changed (``offering.changed``, for the search index) commit together,
    or not at all (a refusal is flashed and nothing changes)."""

    def __init__(self, obj, row_kind: catalog.RowKind, **kwargs):
        super().__init__(obj, **kwargs)
        self.row_kind = row_kind

    def get_related_interface(self, col_name: str) -> ConsoleInterface:
        # Related rows (the offering dropdown) are read, never saved, through this.
        return ConsoleInterface(self.get_related_model(col_name))

    def add(self, item, commit: bool = True) -> None:
        super().add(item, commit=False)
        catalog.finish_console_change(
            self.row_kind, lambda: catalog.footprint(self.row_kind, item), commit=commit)

    def edit(self, item, commit: bool = True) -> None:
        super().edit(item, commit=False)
        catalog.finish_console_change(
            self.row_kind, lambda: catalog.footprint(self.row_kind, item), commit=commit)

    def delete(self, item, commit: bool = True) -> None:
        gone = catalog.footprint(self.row_kind, item)  # before the row is gone
        super().delete(item, commit=False)
        catalog.finish_console_change(self.row_kind, lambda: gone, commit=commit)


class CatalogRowView(TenantModelView):
    """Saves are checked by the same rules as the API, then the same follow-ups run
    (slots and the search index's announcement in the save's own commit, through
    ``CatalogInterface``; the cache and geocoding after it). A refused save is flashed."""

    row_kind: catalog.RowKind

    def pre_add(self, item):
        super().pre_add(item)
        sync_foreign_keys(item)
        catalog.prepare(self.row_kind, item)

    def pre_update(self, item):
        super().pre_update(item)
        sync_foreign_keys(item)
        catalog.prepare(self.row_kind, item)

    def post_add(self, item):
        catalog.after_saved(self.row_kind, item)

    def post_update(self, item):
        catalog.after_saved(self.row_kind, item)

    def post_delete(self, item):
        catalog.after_deleted(self.row_kind)
