"""The shop's setup through the admin API: channel, warehouse, mapping, region, shipping; the store
follows."""

from __future__ import annotations

from tests.admin.conftest import Operator, row_counts, unique


async def _created(admin: Operator, url: str, body: dict, key: str) -> dict:
    response = await admin.request("POST", url, json=body)
    assert response.status_code == 201, response.text
    created: dict = response.json()[key]
    return created


async def test_a_new_market_is_set_up_and_the_store_sells_in_it(admin: Operator, client) -> None:
    channel = await _created(admin, "/admin/sales-channels", {"name": unique("Nordics")}, "sales_channel")
    location = await _created(
        admin, "/admin/stock-locations", {"name": unique("Oslo"), "country_code": "NO"}, "stock_location"
    )
    assert channel["stock_location_id"] is None
    assert (location["country_code"]) == "no"

    unmapped = await admin.request("GET", f"/admin/sales-channels/{channel['id']}/stock-location")
    mapped = await admin.request(
        "POST",
        f"/admin/sales-channels/{channel['id']}/stock-location",
        json={"stock_location_id": location["id"]},
    )
    region = await _created(
        admin,
        "/admin/regions",
        {
            "name": unique("Norway"),
            "currency_code": "NOK",
            "countries": ["no", "SJ"],
            "tax_rate_bps": 2500,
            "sales_channel_id": channel["id"],
        },
        "region",
    )
    option = await _created(
        admin,
        "/admin/shipping-options",
        {"region_id": region["id"], "name": "Posten", "amount": 9900},
        "shipping_option",
    )

    assert unmapped.json() == {"stock_location": None}
    assert mapped.json()["stock_location"]["id"] == location["id"]
    assert (region["currency_code"], region["tax_rate_bps"]) == ("nok", 2500)
    assert region["countries"] == [
        {"iso_2": "no", "name": "Norway"},
        {"iso_2": "sj", "name": "Svalbard & Jan Mayen"},
    ]
    assert (option["amount"], option["currency_code"]) == (9900, "nok")
    store_regions = (await client.get("/store/regions")).json()["regions"]
    assert [r["currency_code"] for r in store_regions if r["id"] == region["id"]] == ["nok"]
    cart = (await client.post("/store/carts", json={"region_id": region["id"]})).json()["cart"]
    options = (await client.get("/store/shipping-options", params={"cart_id": cart["id"]})).json()
    assert [(o["name"], o["amount"]) for o in options["shipping_options"]] == [("Posten", 9900)]
    listed = {
        "sales_channels": (await admin.request("GET", "/admin/sales-channels")).json()["sales_channels"],
        "stock_locations": (await admin.request("GET", "/admin/stock-locations")).json()["stock_locations"],
        "regions": (await admin.request("GET", "/admin/regions")).json()["regions"],
        "shipping_options": (
            await admin.request("GET", "/admin/shipping-options", params={"region_id": region["id"]})
        ).json()["shipping_options"],
    }
    assert {**channel, "stock_location_id": location["id"]} in listed["sales_channels"]
    assert location in listed["stock_locations"]
    assert region in listed["regions"]
    assert listed["shipping_options"] == [option]
    audit = (await admin.request("GET", "/admin/audit-log", params={"entity_id": channel["id"]})).json()[
        "entries"
    ]
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("sales_channel.set_stock_location", "test-admin"),
        ("sales_channel.create", "test-admin"),
    ]


async def test_a_channel_ships_from_one_location_which_can_be_replaced(admin: Operator) -> None:
    channel = await _created(admin, "/admin/sales-channels", {"name": unique("Outlet")}, "sales_channel")
    first, second = [
        await _created(
            admin, "/admin/stock-locations", {"name": unique(), "country_code": "de"}, "stock_location"
        )
        for _ in range(2)
    ]
    url = f"/admin/sales-channels/{channel['id']}/stock-location"

    await admin.request("POST", url, json={"stock_location_id": first["id"]})
    await admin.request("POST", url, json={"stock_location_id": second["id"]})

    assert (await admin.request("GET", url)).json()["stock_location"]["id"] == second["id"]
    [listed] = [
        c
        for c in (await admin.request("GET", "/admin/sales-channels")).json()["sales_channels"]
        if c["id"] == channel["id"]
    ]
    assert listed["stock_location_id"] == second["id"]


async def test_taken_names_and_countries_are_409_and_write_nothing(admin: Operator, demo) -> None:
    channel = (await admin.request("GET", "/admin/sales-channels")).json()["sales_channels"][0]
    location = (await admin.request("GET", "/admin/stock-locations")).json()["stock_locations"][0]
    cases = [
        ("/admin/sales-channels", {"name": channel["name"]}, "sales_channel_name_taken"),
        (
            "/admin/stock-locations",
            {"name": location["name"], "country_code": "nl"},
            "stock_location_name_taken",
        ),
        (
            "/admin/regions",
            {
                "name": "Europe",
                "currency_code": "eur",
                "countries": ["mt"],
                "sales_channel_id": channel["id"],
            },
            "region_name_taken",
        ),
        (
            "/admin/regions",
            {
                "name": unique(),
                "currency_code": "eur",
                "countries": ["mt", "de"],
                "sales_channel_id": channel["id"],
            },
            "country_taken",
        ),
        (
            "/admin/shipping-options",
            {"region_id": demo.regions["Europe"], "name": "Standard", "amount": 100},
            "shipping_option_name_taken",
        ),
    ]
    for url, body, code in cases:
        before = await row_counts()
        response = await admin.request("POST", url, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (409, code), response.text
        assert await row_counts() == before


async def test_unknown_references_are_404(admin: Operator) -> None:
    channel = (await admin.request("GET", "/admin/sales-channels")).json()["sales_channels"][0]
    cases = [
        (
            "/admin/regions",
            {"name": unique(), "currency_code": "eur", "countries": ["mt"], "sales_channel_id": "sc_nope"},
            "sales_channel_not_found",
        ),
        (
            "/admin/shipping-options",
            {"region_id": "reg_nope", "name": "Post", "amount": 100},
            "region_not_found",
        ),
        (
            f"/admin/sales-channels/{channel['id']}/stock-location",
            {"stock_location_id": "sloc_nope"},
            "stock_location_not_found",
        ),
        (
            "/admin/sales-channels/sc_nope/stock-location",
            {"stock_location_id": "sloc_nope"},
            "sales_channel_not_found",
        ),
    ]
    for url, body, code in cases:
        response = await admin.request("POST", url, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (404, code), url
    assert (await admin.request("GET", "/admin/sales-channels/sc_nope/stock-location")).status_code == 404
