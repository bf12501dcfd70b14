"""The concrete listing entry every driver returns (satisfies ``base.ObjectInfo``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(order=True)
class StoreObject:
    """One object in a listing: its key relative to the datastore root, size and etag.

    Not frozen: ``base.ObjectInfo`` declares plain (settable) attributes.
    """

    key: str
    size: int
    etag: str
