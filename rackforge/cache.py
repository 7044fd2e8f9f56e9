"""The result cache: each stage's result stored on disk under a content key.

A key is the SHA-256 of a canonical JSON document (:func:`content_key`); the pipeline builds it
from the stage's name, its code version, the hashes of the scenario sections it reads and the
keys of the upstream results it reads (see :func:`rackforge.pipeline.stage_key`). Two runs
that give a stage the same inputs with the same code share its result, whichever front end
(CLI, report, server, sweep) asks.

Entries are pickles at ``FOLDER/ab/abcd....pkl``, written to a temporary file and renamed, so
a reader never sees half an entry and concurrent writers of the same key are harmless. An entry
that cannot be read (truncated, written by another Python) counts as a miss. Pickles run code
when loaded: the folder is the user's own, like a build cache, never one shared with others.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_FOLDER = Path(".rackforge-cache")


def content_key(document: Any) -> str:
    """SHA-256 of `document` as canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CachedResult:
    """What a stage run leaves behind: its result and the figures shown of it."""

    result: Any
    summary: str
    passed: bool
    data: Any
    seconds: float      # how long the stage took when it ran [s]
    result_hash: str    # content_key of the whole result: what downstream keys are built on


class ResultCache:
    """A folder of cached stage results, keyed by :func:`content_key`, with the entries read or
    written last kept in memory too (a sweep reads the same upstream results point after point).
    """

    def __init__(self, folder: str | Path | None = DEFAULT_FOLDER, in_memory: int = 64) -> None:
        self.folder = Path(folder) if folder is not None else None   # None: memory only
        self.in_memory = in_memory
        self._recent: OrderedDict[str, CachedResult] = OrderedDict()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pkl"

    def get(self, key: str) -> CachedResult | None:
        """The entry stored under `key`, or None when there is none or it cannot be read."""
        if key in self._recent:
            self._recent.move_to_end(key)
            return self._recent[key]
        if self.folder is None:
            return None
        try:
            with self._path(key).open("rb") as handle:
                entry = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
                TypeError, ValueError):
            return None
        if not isinstance(entry, CachedResult):
            return None
        self._remember(key, entry)
        return entry

    def _remember(self, key: str, entry: CachedResult) -> None:
        self._recent[key] = entry
        while len(self._recent) > self.in_memory:
            self._recent.popitem(last=False)

    def put(self, key: str, entry: CachedResult) -> None:
        """Store `entry` under `key` (atomically: a temporary file renamed into place)."""
        if self.folder is None:
            self._remember(key, entry)
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(entry, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
            self._remember(key, entry)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
