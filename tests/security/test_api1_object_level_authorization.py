"""API1 Broken object level authorization: every object is reached only by who may see it.

Orders by their token (a 404 otherwise, not a 403: it does not say the order exists), carts by
an unguessable ID and only through their own cart, admin objects by the key's role (the roles
table, tests/admin/test_roles.py, API5).
"""

from __future__ import annotations

import itertools

from ulid import ULID

from tests.checkout.conftest import buy


async def test_an_order_is_read_only_with_its_own_token(shopper, make_variant) -> None:
    first = await buy(shopper, await make_variant())
    second = await buy(shopper, await make_variant())
    order_id = first.order["id"]

    without = await shopper.http.get(f"/store/orders/{order_id}")
    with_another = await shopper.http.get(
        f"/store/orders/{order_id}", headers={"X-Order-Token": second.order["access_token"]}
    )
    with_its_own = await shopper.http.get(
        f"/store/orders/{order_id}", headers={"X-Order-Token": first.order["access_token"]}
    )

    for refused in (without, with_another):
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "order_not_found")
    assert with_its_own.status_code == 200
    assert with_its_own.json()["order"]["id"] == order_id
    assert "access_token" not in with_its_own.json()["order"]  # only `complete` hands it out


async def test_cart_ids_carry_80_random_bits_and_are_not_sequential(new_cart) -> None:
    ids = [(await new_cart("Europe"))["id"] for _ in range(5)]

    randomness = []
    for cart_id in ids:
        prefix, _, value = cart_id.partition("_")
        assert prefix == "cart"
        randomness.append(int.from_bytes(ULID.from_str(value).bytes[6:]))  # the 80 random bits
    assert len(set(randomness)) == len(ids)
    assert all(abs(a - b) > 2**40 for a, b in itertools.pairwise(randomness))


async def test_a_line_item_is_changed_only_through_its_own_cart(new_cart, client) -> None:
    mine = await new_cart("Europe", ("GT-CBT-SAND-BATH", 1))
    theirs = await new_cart("Europe", ("GT-CBT-SAND-BATH", 2))
    their_item = theirs["items"][0]["id"]

    changed = await client.post(f"/store/carts/{mine['id']}/line-items/{their_item}", json={"quantity": 9})
    removed = await client.delete(f"/store/carts/{mine['id']}/line-items/{their_item}")

    for refused in (changed, removed):
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "line_item_not_found")
    after = (await client.get(f"/store/carts/{theirs['id']}")).json()["cart"]
    assert [(item["id"], item["quantity"]) for item in after["items"]] == [(their_item, 2)]
