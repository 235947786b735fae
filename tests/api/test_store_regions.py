"""GET /store/regions: what a storefront needs to offer a region/currency picker."""

from __future__ import annotations


async def test_lists_the_three_demo_regions_with_currency_and_countries(client, demo):
    response = await client.get("/store/regions")

    assert response.status_code == 200
    listed = {region["name"]: region for region in response.json()["regions"]}
    # The demo's three; other tests add regions of their own through the admin API.
    regions = {name: listed[name] for name in ("Europe", "United States", "Japan")}
    assert regions["Europe"]["id"] == demo.regions["Europe"]
    assert {name: r["currency_code"] for name, r in regions.items()} == {
        "Europe": "eur",
        "United States": "usd",
        "Japan": "jpy",
    }
    assert regions["Japan"]["countries"] == [{"iso_2": "jp", "name": "Japan"}]
    assert regions["United States"]["countries"] == [{"iso_2": "us", "name": "United States"}]
    europe = {country["iso_2"] for country in regions["Europe"]["countries"]}
    assert {"de", "fr", "nl"} <= europe
    assert all(len(code) == 2 and code.islower() for code in europe)
