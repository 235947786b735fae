"""API7 Server side request forgery: the API never fetches a URL a client sent.

Every outbound call goes to an address from the settings: Stripe (its SDK's base, or
STRIPE_API_BASE), Temporal (TEMPORAL_ADDRESS), Resend and PostHog (their SDKs, POSTHOG_HOST),
the S3/R2 bucket (S3_ENDPOINT_URL), the OTLP collector (OTEL_EXPORTER_OTLP_ENDPOINT). Product
images are uploaded as bytes, never given as a link to fetch; the URLs the API returns are
made from the media store's base and our own key. So no request field may hold a URL.
"""

from __future__ import annotations

from typing import Any

URL_WORDS = ("url", "uri", "link", "href", "webhook", "callback", "endpoint", "host")


def _request_fields(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    components = document["components"]["schemas"]
    fields = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                fields.append((f"{method} {path}", parameter["name"], parameter["schema"]))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                pending, seen = [content["schema"]], set()
                while pending:
                    schema = pending.pop()
                    if "$ref" in schema:
                        name = schema["$ref"].rsplit("/", 1)[-1]
                        if name not in seen:
                            seen.add(name)
                            pending.append(components[name])
                        continue
                    for name, field in schema.get("properties", {}).items():
                        fields.append((f"{method} {path}", name, field))
                        pending.append(field)
                    for key in ("items", "additionalProperties"):
                        if isinstance(schema.get(key), dict):
                            pending.append(schema[key])
                    pending += [
                        s for s in schema.get("anyOf", []) + schema.get("allOf", []) if isinstance(s, dict)
                    ]
    return fields


def test_no_request_field_takes_a_url(document) -> None:
    fields = _request_fields(document)
    assert len(fields) > 50, "the walk found too little to prove anything"
    suspicious = [
        (operation, name)
        for operation, name, schema in fields
        if any(word in name.lower() for word in URL_WORDS)
        or any(s.get("format") in {"uri", "url", "iri"} for s in [schema, *schema.get("anyOf", [])])
    ]
    # The Authorization header is a bearer key, not a place to fetch.
    assert [s for s in suspicious if s[1] != "authorization"] == []


def test_an_image_is_uploaded_as_bytes(document) -> None:
    upload = document["paths"]["/admin/products/{product_id}/images"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
