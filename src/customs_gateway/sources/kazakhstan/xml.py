"""Hardened parsing of KGD XML bodies and namespace-aware element access.

The upstream is not trusted: a DTD, an entity declaration (billion laughs) or an external
entity is refused outright rather than expanded, and every parse failure becomes
:class:`~customs_gateway.errors.UpstreamContract` here, the one place XML exceptions are
translated.

Why not defusedxml's ``fromstring`` (which refuses the same documents): it builds the tree through
the pure-Python ``XMLParser``, a Python callback per tag, which made parsing a KGD list page
about 2.7x slower than the C parser. Entities and external references can only be declared in a
document type declaration, and a DOCTYPE can only stand in the prolog, before the root element.
So :func:`_refuse_doctype` runs expat over the prolog alone (it stops at the root's start tag)
and refuses any DOCTYPE; only then does the C-accelerated ElementTree parser build the tree.
Both passes are the same expat over the same bytes with the same encoding detection, so they
cannot disagree about where the prolog ends.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection
from functools import lru_cache
from xml.parsers import expat

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden

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
    "refuse_hostile",
    "required_child",
    "required_text",
]

NS = "urn:kz:kgd:astana1:sim:v1"
Element = ET.Element


@lru_cache(maxsize=256)
def qname(name: str) -> str:
    """``{urn:…}name``: the tag ElementTree gives an element in the KGD namespace."""
    return f"{{{NS}}}{name}"


class _PrologRead(Exception):
    """The root element started: no DOCTYPE can follow."""


def _refuse_doctype(body: bytes) -> None:
    """Raise DTDForbidden / EntitiesForbidden when the prolog declares a document type.

    Malformed prologs pass here: the tree parser reports them, at the same place.
    """
    scanner = expat.ParserCreate()

    def doctype(name: str, system_id: str | None, public_id: str | None, has_internal_subset: bool) -> None:
        raise DTDForbidden(name, system_id, public_id)

    def entity(name: str, *_: object) -> None:  # unreachable without a DOCTYPE: belt and braces
        raise EntitiesForbidden(name, None, None, None, None, None)

    def root(name: str, attributes: object) -> None:
        raise _PrologRead

    scanner.StartDoctypeDeclHandler = doctype
    scanner.EntityDeclHandler = entity
    scanner.StartElementHandler = root
    try:
        scanner.Parse(body, True)
    except _PrologRead:
        return
    except DefusedXmlException:  # a ValueError: must not be swallowed below
        raise
    except (expat.ExpatError, ValueError, LookupError, UnicodeError):
        return


def refuse_hostile(body: bytes, *, endpoint: str | None = None) -> None:
    """Refuse a document whose prolog declares a document type (UpstreamContract), before any
    parser builds anything of it: what :func:`parse_document` checks first, for other parsers."""
    try:
        _refuse_doctype(body)
    except DefusedXmlException as exc:
        raise UpstreamContract(
            Authority.KGD, f"hostile XML refused ({type(exc).__name__})", endpoint=endpoint
        ) from exc


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_document(
    body: bytes, roots: Collection[str] | None = None, *, endpoint: str | None = None
) -> Element:
    """Parse ``body`` and check that its root is in the KGD namespace and one of ``roots`` (local names).

    ``roots`` None accepts any root element in the namespace.
    """
    refuse_hostile(body, endpoint=endpoint)
    try:
        root = ET.fromstring(body)  # noqa: S314 - refuse_hostile refused any DTD (see the module doc)
    except ET.ParseError as exc:
        raise UpstreamContract(Authority.KGD, f"malformed XML: {exc}", endpoint=endpoint) from exc
    except (ValueError, LookupError, UnicodeError) as exc:  # e.g. an unknown encoding declaration
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
