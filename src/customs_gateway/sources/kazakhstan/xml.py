"""Hardened parsing of KGD XML bodies and namespace-aware element access.

The upstream is not trusted: a DTD, an entity declaration (billion laughs) or an external
entity is refused outright by defusedxml rather than expanded, and every parse failure becomes
:class:`~customs_gateway.errors.UpstreamContract` here, the one place XML exceptions are
translated.
"""

from __future__ import annotations

# Only for the Element type and ParseError: parsing goes through defusedxml.
import xml.etree.ElementTree as ET
from collections.abc import Collection

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ...domain import Authority
from ...errors import UpstreamContract

__all__ = [
    "NS",
    "Element",
    "child",
    "child_text",
    "children",
    "local_name",
    "parse_document",
    "qname",
    "required_child",
    "required_text",
]

NS = "urn:kz:kgd:astana1:sim:v1"
Element = ET.Element


def qname(name: str) -> str:
    """``{urn:…}name``: the tag ElementTree gives an element in the KGD namespace."""
    return f"{{{NS}}}{name}"


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_document(
    body: bytes, roots: Collection[str] | None = None, *, endpoint: str | None = None
) -> Element:
    """Parse ``body`` and check that its root is in the KGD namespace and one of ``roots`` (local names).

    ``roots`` None accepts any root element in the namespace.
    """
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UpstreamContract(
            Authority.KGD, f"hostile XML refused ({type(exc).__name__})", endpoint=endpoint
        ) from exc
    except ET.ParseError as exc:
        raise UpstreamContract(Authority.KGD, f"malformed XML: {exc}", endpoint=endpoint) from exc
    except (ValueError, UnicodeError) as exc:  # e.g. an unknown encoding declaration
        raise UpstreamContract(Authority.KGD, f"unreadable XML: {exc}", endpoint=endpoint) from exc
    if not root.tag.startswith(f"{{{NS}}}") or (
        roots is not None and root.tag not in {qname(name) for name in roots}
    ):
        expected = "any element" if roots is None else " or ".join(sorted(roots))
        raise UpstreamContract(
            Authority.KGD,
            f"unexpected root element {root.tag!r}, wanted {expected} in {NS}",
            endpoint=endpoint,
        )
    return root


def child(el: Element, name: str) -> Element | None:
    return el.find(qname(name))


def children(el: Element, name: str) -> list[Element]:
    return el.findall(qname(name))


def child_text(el: Element, name: str) -> str | None:
    """The stripped text of child ``name``; None when the child is absent or empty."""
    found = el.find(qname(name))
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def required_child(el: Element, name: str, where: str) -> Element:
    found = el.find(qname(name))
    if found is None:
        raise UpstreamContract(Authority.KGD, f"{where}: missing element {name}")
    return found


def required_text(el: Element, name: str, where: str) -> str:
    text = child_text(el, name)
    if text is None:
        raise UpstreamContract(Authority.KGD, f"{where}: missing or empty field {name}")
    return text
