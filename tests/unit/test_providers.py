"""What leaves for Resend and PostHog, checked on the wire: a local HTTP server stands in for them
(neither has a local stand-in), and the real SDKs talk to it."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import resend

from core.analytics import PostHogSink, stable_event_uuid
from core.email import EmailMessage, ResendEmailSender


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ProviderStandIn:
    url: str
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def provider() -> Iterator[ProviderStandIn]:
    stand_in = ProviderStandIn(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                raw = gzip.decompress(raw)
            stand_in.received.append(
                Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=json.loads(raw),
                )
            )
            answer = json.dumps({"id": "re_0123", "status": 1}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


async def test_resend_gets_the_email_with_our_idempotency_key(
    provider: ProviderStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resend, "api_url", provider.url)
    sender = ResendEmailSender("re_test_key", "Grace's Towel <orders@gracestowel.example>")
    message = EmailMessage(to="buyer@example.com", subject="Your order", html="<p>Hi</p>", text="Hi")

    provider_id = await sender.send(message, idempotency_key="order_01:confirmation-email")

    assert provider_id == "re_0123"
    [request] = provider.received
    assert request.path == "/emails"
    assert request.headers["authorization"] == "Bearer re_test_key"
    # Resend deduplicates retries on this header: a lost response never means a second email.
    assert request.headers["idempotency-key"] == "order_01:confirmation-email"
    assert request.body == {
        "from": "Grace's Towel <orders@gracestowel.example>",
        "to": ["buyer@example.com"],
        "subject": "Your order",
        "html": "<p>Hi</p>",
        "text": "Hi",
    }


async def test_posthog_gets_order_placed_with_a_uuid_stable_across_retries(
    provider: ProviderStandIn,
) -> None:
    sink = PostHogSink("phc_test_key", provider.url)
    properties = {"order_id": "order_01", "total": 4194, "currency_code": "eur", "items": 2}
    event_uuid = stable_event_uuid("order_01:order_placed")

    await sink.capture(
        event="order_placed", distinct_id="order_01", properties=properties, event_uuid=event_uuid
    )

    events = [event for request in provider.received for event in request.body.get("batch", [request.body])]
    [event] = [e for e in events if e.get("event") == "order_placed"]
    assert event["distinct_id"] == "order_01"
    assert event["uuid"] == str(event_uuid) == str(stable_event_uuid("order_01:order_placed"))
    assert {k: event["properties"][k] for k in properties} == properties
