"""Assemble whole KGD XML documents from pre-rendered fragments, by byte concatenation.

Fragments carry no namespace declaration (see :mod:`customs_sim.kazakhstan.render`): a list root
declares the default namespace once and its children inherit it; a single document gets the
declaration spliced into its first tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

__all__ = [
    "NAMESPACE",
    "XML_DECLARATION",
    "error_document",
    "list_document",
    "single_document",
]

NAMESPACE = "urn:kz:kgd:astana1:sim:v1"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_XMLNS = f' xmlns="{NAMESPACE}"'.encode()


def single_document(fragment: bytes) -> bytes:
    """The fragment as a document: its root tag gains the default namespace declaration."""
    # The root's name ends at the first '>' or ' ' (attributes, as on <ExchangeRates date=…>).
    end = fragment.index(b">")
    space = fragment.find(b" ", 0, end)
    cut = end if space == -1 else space
    return b"".join((XML_DECLARATION, fragment[:cut], _XMLNS, fragment[cut:]))


def list_document(
    root: str,
    fragments: Iterable[bytes],
    not_found_tag: str | None = None,
    not_found: Iterable[str] = (),
) -> bytes:
    """``<{root} xmlns=…>`` + fragments + optional ``<NotFound>`` of ``not_found_tag`` elements."""
    tag = root.encode()
    parts = [XML_DECLARATION, b"<", tag, _XMLNS, b">"]
    parts.extend(fragments)
    missing = list(not_found)
    if missing:
        assert not_found_tag is not None
        inner = "".join(f"<{not_found_tag}>{escape(number)}</{not_found_tag}>" for number in missing)
        parts.append(f"<NotFound>{inner}</NotFound>".encode())
    parts.extend((b"</", tag, b">"))
    return b"".join(parts)


def error_document(code: str, message: str) -> bytes:
    body = f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
    return single_document(body.encode())
