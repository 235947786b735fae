"""Transactional email through Resend; with no API key, the outbox table is the only delivery."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

import resend


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    html: str
    text: str


class EmailSender(Protocol):
    async def send(self, message: EmailMessage, *, idempotency_key: str) -> str:
        """Deliver the message; returns the provider's message ID."""
        ...


class ResendEmailSender:
    def __init__(self, api_key: str, sender: str) -> None:
        self._api_key = api_key
        self._sender = sender

    async def send(self, message: EmailMessage, *, idempotency_key: str) -> str:
        resend.api_key = self._api_key
        params: resend.Emails.SendParams = {
            "from": self._sender,
            "to": [message.to],
            "subject": message.subject,
            "html": message.html,
            "text": message.text,
        }
        # Resend deduplicates on this key too, so a retry after a lost response sends nothing new.
        response = await asyncio.to_thread(resend.Emails.send, params, {"idempotency_key": idempotency_key})
        return str(response["id"])
