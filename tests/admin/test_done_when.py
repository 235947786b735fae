"""Issue 8's "done when", as one story on the whole stack: the first key comes from the CLI; with it a
product with two variants priced in three currencies gets a photo and stock, is published and
bought through the store; a viewer key reads all of it and changes none of it."""

from __future__ import annotations

import re

import pytest

from tests.admin.conftest import EU_WAREHOUSE, Operator, bearer, unique
from tests.admin.test_images import picture, upload
from tests.admin.test_keys import cli
from tests.admin.test_roles import ROUTE_ROLES
from tests.checkout.conftest import Shopper, buy, regions, shopper

__all__ = ["regions", "shopper"]

pytestmark = pytest.mark.e2e


async def test_a_new_shop_owner_sells_a_towel_and_a_viewer_only_looks(
    shopper: Shopper, warehouses, database_url: str
) -> None:
    code, secret, told = await cli(
        "create", "--name", unique("owner"), "--role", "admin", database_url=database_url
    )
    assert code == 0, told
    owner = Operator(http=shopper.http, headers=bearer(secret.strip()))
    token = unique()

    product = await owner.create_product(
        {
            "title": f"Linen Beach Towel {token}",
            "options": [{"title": "Colour", "values": ["Dune", "Lagoon"]}],
            "variants": [
                {
                    "title": colour,
                    "sku": f"LBT-{token}-{colour}".upper(),
                    "options": {"Colour": colour},
                    "prices": [
                        {"currency_code": "eur", "amount": 3900},
                        {"currency_code": "usd", "amount": 4400},
                        {"currency_code": "jpy", "amount": 6200},
                    ],
                    "inventory": [{"location_id": warehouses[EU_WAREHOUSE]}],
                }
                for colour in ("Dune", "Lagoon")
            ],
        }
    )
    assert product["status"] == "draft"
    photo = await owner.request(
        "POST", f"/admin/products/{product['id']}/images", **upload(picture("JPEG"), "image/jpeg")
    )
    assert photo.status_code == 201, photo.text
    dune = product["variants"][0]
    level_id = dune["inventory"][0]["id"]
    stocked = await owner.request(
        "POST",
        f"/admin/inventory-levels/{level_id}/adjustments",
        json={"delta": 12, "reason": "adjustment", "note": "first delivery"},
    )
    assert stocked.status_code == 201, stocked.text
    published = await owner.request("POST", f"/admin/products/{product['id']}", json={"status": "published"})
    assert published.json()["product"]["status"] == "published"

    store = (await shopper.http.get(f"/store/products/{product['handle']}")).json()["product"]
    assert store["images"] == [photo.json()["image"]]
    purchase = await buy(shopper, dune["id"], currency="eur", quantity=2)
    assert purchase.order["payment_status"] == "captured"
    assert [(item["sku"], item["unit_price"]) for item in purchase.order["items"]] == [(dune["sku"], 3900)]

    created = await owner.request(
        "POST", "/admin/api-keys", json={"name": unique("auditor"), "role": "viewer"}
    )
    viewer = Operator(http=shopper.http, headers=bearer(created.json()["secret"]))
    ids = {
        "product_id": product["id"],
        "variant_id": dune["id"],
        "image_id": photo.json()["image"]["id"],
        "level_id": level_id,
        "order_id": purchase.order["id"],
        "return_id": "ret_none",  # a viewer is refused before any lookup
        "payment_intent_id": purchase.payment_intent_id,
        "channel_id": (await viewer.request("GET", "/admin/sales-channels")).json()["sales_channels"][0][
            "id"
        ],
        "key_id": created.json()["api_key"]["id"],
        "kind": "confirmation",
    }
    before = (await viewer.request("GET", f"/admin/products/{product['id']}")).json()

    for (method, path), role in sorted(ROUTE_ROLES.items()):
        url = re.sub(r"\{(\w+)\}", lambda match: ids[match.group(1)], path)
        response = await viewer.request(method, url)
        if method == "GET" and role == "viewer":
            assert response.status_code == 200, (url, response.text)
        else:
            assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden"), url

    assert (await viewer.request("GET", f"/admin/products/{product['id']}")).json() == before
    level = (await viewer.request("GET", f"/admin/inventory-levels/{level_id}")).json()["inventory_level"]
    assert (level["stocked_quantity"], level["reserved_quantity"]) == (10, 0)
    ledger = (await viewer.request("GET", f"/admin/inventory-levels/{level_id}/adjustments")).json()[
        "adjustments"
    ]
    assert [(row["reason"], row["delta"]) for row in ledger] == [("sale", -2), ("adjustment", 12)]
