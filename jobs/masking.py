"""The queue's password never reaches a log line, an error or a reply: one place that knows
every form libpq accepts a password in, used by ``db migrate``, the worker and the bot.

The forms: a URL (``postgresql://user:PASSWORD@host/db``, the password maybe holding an
unencoded ``#``, ``?``, ``/`` or ``@``, or percent-encoded), its ``password=`` query parameter,
and the keyword/value string (``host=db password=PASSWORD`` or ``password='it''s'``).

A password is masked where it stands (in a URL's user part, after ``password=``), so a password
that is a common word (``job``) doesn't hide that word everywhere; a secret of at least
:data:`BARE_MIN` characters, or of three or more holding more than letters and digits, is
masked wherever it appears too (a library's message may quote it). A connection string that
is a URL as a whole is read as one, spaces and all (libpq refuses a password with a space,
quoting it).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import unquote

MASK = "***"
BARE_MIN = 8  # a secret this long is masked anywhere; a shorter one only where it stands

# Any URL (a mistyped scheme's too), its user part up to the last ``@``.
_URL = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<rest>\S*)", re.IGNORECASE)
# ``password=VALUE`` in a URL's query (up to ``&``) or a keyword string (quoted or up to a
# space); the value's own form is told by what follows the ``=``.
_KEYWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|[^\s&]*)")


@dataclass(frozen=True)
class _Url:
    """A URL cut where libpq (or a person) would see its user and password:
    the user part runs up to the last ``@`` (a password may hold ``/``, ``?``, ``#``)."""

    head: str  # scheme://user:
    password: str | None
    tail: str  # @host...

    @classmethod
    def parse(cls, scheme: str, rest: str) -> _Url:
        at = rest.rfind("@")
        colon = rest.find(":", 0, at) if at >= 0 else -1
        if colon < 0:
            return cls(scheme + rest, None, "")
        return cls(scheme + rest[: colon + 1], rest[colon + 1 : at], rest[at:])


def _whole_url(conninfo: str) -> _Url | None:
    """``conninfo`` as one URL when it is one, spaces and all (a password holding a space,
    not percent-encoded: libpq refuses it, quoting it)."""
    match = re.fullmatch(
        r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<rest>.*)", conninfo.strip(), re.I | re.S
    )
    return _Url.parse(match["scheme"], match["rest"]) if match else None


def secrets_of(conninfo: str | None) -> list[str]:
    """Every password in ``conninfo`` (a URL, its query, a keyword string), as written and
    as libpq reads it (percent-decoded, unquoted)."""
    if not conninfo:
        return []
    found: list[str] = []
    whole = _whole_url(conninfo)
    urls = [_Url.parse(m["scheme"], m["rest"]) for m in _URL.finditer(conninfo)]
    for url in [whole, *urls] if whole else urls:
        if url.password:
            found += [url.password, unquote(url.password)]
    for match in _KEYWORD.finditer(conninfo):
        value = match["value"]
        if value.startswith("'"):
            found += [value, re.sub(r"\\(.)", r"\1", value.strip("'"))]
        elif value:
            found += [value, unquote(value)]
    return sorted({s for s in found if s}, key=len, reverse=True)


def mask_conninfo(conninfo: str) -> str:
    """``conninfo`` (any form) with every password replaced by ``***``."""
    whole = _whole_url(conninfo)
    if whole is not None and whole.password:
        conninfo = whole.head + MASK + whole.tail
    return mask_text(conninfo)


def mask_text(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with the password of every connection string in it masked, and ``secrets``
    masked where they stand (after ``user:`` in a URL or ``password=``), or anywhere when
    they are long enough not to be an ordinary word (:data:`BARE_MIN`)."""

    def url(match: re.Match[str]) -> str:
        parsed = _Url.parse(match["scheme"], match["rest"])
        if parsed.password is None:
            return match[0]
        return parsed.head + MASK + parsed.tail

    text = _URL.sub(url, text)
    text = _KEYWORD.sub(lambda m: m["key"] + (MASK if m["value"] else ""), text)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= BARE_MIN or (len(secret) >= 3 and not secret.isalnum()):
            text = text.replace(secret, MASK)
    return text


class MaskSecrets(logging.Filter):
    """Masks connection strings and the given secrets in every record it sees (message,
    arguments and traceback)."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        masked = mask_text(text, self.secrets)
        if masked != text:
            record.msg, record.args = masked, None
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text, self.secrets)
        return True


def mask_logs(*conninfos: str | None) -> None:
    """Keep the passwords of ``conninfos`` (and any connection string's) out of every log
    handler of this process."""
    secrets = sorted({s for c in conninfos for s in secrets_of(c)}, key=len, reverse=True)
    handlers = logging.getLogger().handlers or [logging.lastResort]
    for handler in handlers:
        if handler is not None and not any(isinstance(f, MaskSecrets) for f in handler.filters):
            handler.addFilter(MaskSecrets(secrets))


__all__ = ["MASK", "MaskSecrets", "mask_conninfo", "mask_logs", "mask_text", "secrets_of"]
