"""localstripe for `make dev` and tests, with its state where we choose.

localstripe itself (1.15.x) keeps every object in memory, pickles the whole store to the fixed
path `/tmp/localstripe.pickle` after each write, and reloads that file at start unless
`--from-scratch`. A fixed path shared by every localstripe on the machine (the test suite's
too) would let one overwrite another's state, so this runner replaces the two persistence
methods of localstripe's store:

* with `--state-file PATH`: load PATH at start, save after each write atomically (temp file +
  rename: a crash mid-write never leaves a truncated file; a corrupt file is moved aside to
  `PATH.broken` and the server starts empty). `make dev` uses `<dev dir>/localstripe.pickle`,
  so PaymentIntents of orders placed before a restart can still be retrieved.
* without it: memory only, nothing written anywhere (what tests want).

It also binds to one address (127.0.0.1 by default) rather than every interface.

    python -m devstack.fakestripe --port 8420 --state-file .dev/localstripe.pickle

`pay` is the card payment a storefront's Stripe.js makes, done against localstripe (used by the
checkout tests and the benchmark).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pickle
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:  # only for the annotations: the server itself does not import stripe
    import stripe


def _use_state_file(path: Path | None) -> None:
    from localstripe import resources

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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.fakestripe",
        description="localstripe with its state in a file of our choosing",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-file", type=Path, default=None, help="omit to keep everything in memory")
    args = parser.parse_args(argv)

    state_file: Path | None = args.state_file
    if state_file is not None:
        state_file = state_file.resolve()
        state_file.parent.mkdir(parents=True, exist_ok=True)
    _use_state_file(state_file)

    from aiohttp import web
    from localstripe import server

    server.store.try_load_from_disk()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))

    access_log = logging.getLogger("aiohttp.access")
    access_log.setLevel(logging.DEBUG)
    access_log.addHandler(logging.StreamHandler())
    print(
        f"localstripe on http://{args.host}:{args.port}, state: {state_file or 'memory only'}",
        file=sys.stderr,
        flush=True,
    )
    # shutdown_timeout: on SIGTERM/SIGINT wait at most 2 s for requests in flight.
    web.run_app(server.app, sock=sock, access_log=access_log, print=None, shutdown_timeout=2.0)


async def register_webhook(base_url: str, name: str, url: str, secret: str) -> None:
    """Make localstripe deliver its events to `url`, signed with `secret` (kept in memory by
    localstripe: register again after every start)."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.post(
            f"{base_url}/_config/webhooks/{name}", json={"url": url, "secret": secret}
        )
        response.raise_for_status()


async def pay(client: stripe.StripeClient, payment_intent_id: str, card: str) -> stripe.PaymentIntent:
    """Pay a PaymentIntent with a test card the way Stripe.js does in the browser, against localstripe:
    create a card PaymentMethod, attach it to the PaymentIntent, confirm. (Stripe.js sends the card
    with the confirmation; localstripe wants the attach and the confirm as separate calls.)

    Returns the confirmed PaymentIntent (`requires_capture` for a manual-capture one paid with a good
    card); a declined card raises `stripe.CardError`, as it does with Stripe.
    """
    method = await client.v1.payment_methods.create_async(
        {"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    await client.v1.payment_intents.update_async(payment_intent_id, {"payment_method": method.id})
    return await client.v1.payment_intents.confirm_async(payment_intent_id)


if __name__ == "__main__":
    main()
