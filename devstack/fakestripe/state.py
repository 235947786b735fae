"""Where the fake keeps its state: a file of our choosing, or nowhere.

localstripe itself (1.15.x) keeps every object in memory, pickles the whole store to the fixed
path `/tmp/localstripe.pickle` after each write, and reloads that file at start unless
`--from-scratch`. A fixed path shared by every localstripe on the machine (the test suite's too)
would let one overwrite another's state, so the two persistence methods of its store are
replaced:

* with a path: load it at start, save it once after each write request (POST, PUT, DELETE)
  atomically (temp file + rename: a crash mid-write never leaves a truncated file; a corrupt
  file is moved aside to `PATH.broken` and the server starts empty);
* without one: memory only, nothing written anywhere.

Everything the fake adds lives in the same store (disputes, the Idempotency-Key ledger), so it
is saved and restored with localstripe's own objects.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from localstripe import resources


def use_state_file(path: Path | None) -> None:
    def load(store: dict[str, Any]) -> None:
        if path is None:
            return
        try:
            with path.open("rb") as handle:
                saved = pickle.load(handle)
        except FileNotFoundError:
            return
        except Exception as exc:
            broken = path.with_name(path.name + ".broken")
            path.replace(broken)
            print(
                f"localstripe state {path} is unreadable ({exc!r}); moved to {broken}, starting empty",
                file=sys.stderr,
                flush=True,
            )
            return
        store.clear()
        dict.update(store, saved)  # plain update: does not trigger a save per item

    def dump(store: dict[str, Any]) -> None:
        if path is None:
            return
        temporary = path.with_name(path.name + ".tmp")
        try:
            with temporary.open("wb") as handle:
                pickle.dump(dict(store), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except Exception as exc:
            print(f"could not save localstripe state to {path}: {exc!r}", file=sys.stderr, flush=True)
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    # localstripe also saves the whole store each time one object is added or removed, several
    # times per request; its middleware saving once after every write request is enough.
    resources.Store.__setitem__ = dict.__setitem__
    resources.Store.__delitem__ = dict.__delitem__
