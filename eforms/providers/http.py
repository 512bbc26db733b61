"""Autofill from a registry that speaks JSON over HTTP.

``GET {base_url}/{subject}?keys=a,b`` must answer a JSON object of key -> value (404 means
the subject is unknown). Each attempt is bounded by ``timeout``; transport errors and 5xx
answers are retried ``retries`` times with a short backoff; answers larger than ``max_bytes``
are refused. The provider only talks to the ``base_url`` the caller configured.
``display_name`` and ``enum_labels`` say how people know the registry and what its values
mean (see :mod:`eforms.names`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from eforms.errors import ProviderError
from eforms.names import LabelLike

__all__ = ["HttpJsonProvider"]


class HttpJsonProvider:
    """A provider backed by an HTTP JSON endpoint."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.05,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = 1_000_000,
        transport: httpx.AsyncBaseTransport | None = None,
        display_name: LabelLike | None = None,
        enum_labels: Mapping[str, Mapping[Any, LabelLike] | str] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.headers = dict(headers or {})
        self.max_bytes = max_bytes
        self.transport = transport
        self.display_name = display_name
        """How people know this registry; :class:`~eforms.ProviderRegistry` reads it."""
        self.enum_labels = enum_labels
        """What the values of its keys mean (key -> value -> label, or a vocabulary name)."""

    def __repr__(self) -> str:
        return f"HttpJsonProvider({self.base_url!r})"

    async def lookup(self, subject: str, keys: Sequence[str]) -> Mapping[str, Any]:
        url = f"{self.base_url}/{quote(subject, safe='')}"
        params = {"keys": ",".join(keys)}
        last: str = ""
        async with httpx.AsyncClient(
            timeout=self.timeout,
            headers=self.headers,
            transport=self.transport,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            for attempt in range(self.retries + 1):
                if attempt:
                    await asyncio.sleep(self.backoff * attempt)
                try:
                    answer = await self._get(client, url, params)
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}"
                    continue
                if answer is None:
                    last = "server error"
                    continue
                return answer
        raise ProviderError(f"{self.base_url}: gave up after {self.retries + 1} tries ({last})")

    async def _get(
        self, client: httpx.AsyncClient, url: str, params: Mapping[str, str]
    ) -> dict[str, Any] | None:
        async with client.stream("GET", url, params=params) as response:
            if response.status_code == 404:
                return {}
            if response.status_code >= 500:
                return None
            if response.status_code != 200:
                raise ProviderError(f"{url}: HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise ProviderError(f"{url}: answer larger than {self.max_bytes} bytes")
        try:
            parsed = json.loads(bytes(body))
        except (ValueError, RecursionError) as exc:
            raise ProviderError(f"{url}: answer is not JSON") from exc
        if not isinstance(parsed, dict):
            raise ProviderError(f"{url}: answer is not a JSON object")
        return {k: v for k, v in parsed.items() if isinstance(k, str)}
