"""Twilio's request signature, checked with one HMAC for a genuine request.

Twilio signs the URL it called, then each POST parameter's name and value in the order of the
names, with HMAC-SHA1 under the account's auth token, and sends it base64 in X-Twilio-Signature.
Because Twilio is not consistent about a default port in that URL, the SDK's validator
(twilio.request_validator) always computes the signature twice, with the port and without,
parsing and rebuilding the URL each time: about a tenth of a millisecond a request, a fifth of a
whole turn. This checks the URL as it was rebuilt from the request first, and only when that
fails the SDK's two spellings of it, so it accepts exactly what the SDK accepts (held to the
SDK's answers by tests/test_signatures.py). Parameters are a plain mapping, one value a name,
as the webhooks have always passed them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator, Mapping
from urllib.parse import urlparse


class Signatures:
    def __init__(self, auth_token: str) -> None:
        self._key = auth_token.encode()

    def valid(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        given = signature.encode("utf-8", "replace")
        signed = "".join(name + params[name] for name in sorted(params))
        return any(hmac.compare_digest(self._sign(spelling + signed), given) for spelling in _spellings(url))

    def _sign(self, text: str) -> bytes:
        return base64.b64encode(hmac.new(self._key, text.encode(), hashlib.sha1).digest())


def _spellings(url: str) -> Iterator[str]:
    """The URL as given, then (lazily: a genuine request stops at the first) the SDK's with and without the port."""
    yield url
    parts = urlparse(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: the SDK raises too, and nothing signed it
        return
    without = parts._replace(netloc=parts.netloc.split(":")[0]).geturl() if port else parts.geturl()
    default = 443 if parts.scheme == "https" else 80
    with_port = parts.geturl() if port else parts._replace(netloc=f"{parts.netloc}:{default}").geturl()
    yield from (spelling for spelling in dict.fromkeys((without, with_port)) if spelling != url)
