"""``Registry``: one name-to-object lookup for everything chosen by name (models, encodings, losses, ...).

A registry is a read-only mapping with registration (``@registry.register(name)`` or ``registry.add``) and one
error for an unknown name, which lists the choices::

    LOSSES = Registry("loss", {"l1": l1_loss})
    LOSSES.get("huber")  # ValueError: unknown loss 'huber'; choose one of l1
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Named entries of one kind.

    Args:
        kind: what an entry is, for messages ("model", "loss", "data set").
        entries: initial name -> entry pairs.
        ignore_case: look names up without regard to case (the registered spelling is kept).
    """

    def __init__(self, kind: str, entries: Mapping[str, T] | None = None, ignore_case: bool = False) -> None:
        self.kind = kind
        self.ignore_case = ignore_case
        self._entries: dict[str, T] = {}
        for name, entry in (entries or {}).items():
            self.add(name, entry)

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name``; a name registered twice is an error. Returns ``entry``."""
        if self._find(name) is not None:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`: ``@registry.register("unet")`` above a class or function."""
        return lambda entry: self.add(name, entry)

    def _find(self, name: str) -> str | None:
        if name in self._entries:
            return name
        if self.ignore_case:
            return next((key for key in self._entries if key.lower() == name.lower()), None)
        return None

    def canonical(self, name: str) -> str:
        """The registered spelling of ``name``; ValueError listing the choices when there is none."""
        key = self._find(name)
        if key is None:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.names())}")
        return key

    def get(self, name: str) -> T:  # type: ignore[override]  (unknown names raise rather than return a default)
        """The entry called ``name``; ValueError listing the choices when there is none."""
        return self._entries[self.canonical(name)]

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching the shell-style ``pattern``, sorted."""
        return sorted(name for name in self._entries if fnmatch.fnmatch(name, pattern))

    def __getitem__(self, name: str) -> T:
        key = self._find(name)
        if key is None:
            raise KeyError(name)
        return self._entries[key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
