"""Hardened KGD XML parsing: hostile and broken bodies become UpstreamContract, never an expansion."""

from __future__ import annotations

from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from customs_gateway.errors import UpstreamContract
from customs_gateway.sources.kazakhstan import xml
from customs_gateway.sources.kazakhstan.client import resource_path

NS = "urn:kz:kgd:astana1:sim:v1"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1"><Checkpoint><Name>&lol4;</Name></Checkpoint></Checkpoints>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1"><Checkpoint><Name>&xxe;</Name></Checkpoint></Checkpoints>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Checkpoints SYSTEM "http://attacker.invalid/kgd.dtd">
<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1"/>"""

PLAIN_DTD = b"""<?xml version="1.0"?><!DOCTYPE Checkpoints><Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1"/>"""

# The DOCTYPE check reads the prolog with expat's own encoding detection, so a DTD cannot hide
# behind another encoding, a comment or a processing instruction.
UTF16_DTD = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]>'
    '<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1">&x;</Checkpoints>'
).encode("utf-16")
LATIN1_DTD = (
    '<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE a [<!ENTITY x "y">]>'
    '<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1">&x;</Checkpoints>'
).encode("latin-1")
DTD_AFTER_COMMENT = (
    b'<?xml version="1.0"?><!-- ' + b"x" * 100_000 + b' --><?pi <Checkpoints>?><!DOCTYPE Checkpoints>'
    b'<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1"/>'
)
UNDECLARED_ENTITY = b'<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1">&lol;</Checkpoints>'
DTD_AFTER_ROOT = b'<Checkpoints xmlns="urn:kz:kgd:astana1:sim:v1"/><!DOCTYPE Checkpoints>'

GOOD = (
    f'<?xml version="1.0" encoding="UTF-8"?><Checkpoints xmlns="{NS}">'
    "<Checkpoint><Code> 55201011 </Code><Name>Нұр Жолы</Name><NameLatin></NameLatin></Checkpoint>"
    "</Checkpoints>"
).encode()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (BILLION_LAUGHS, "hostile"),
        (EXTERNAL_ENTITY, "hostile"),
        (EXTERNAL_DTD, "hostile"),
        (PLAIN_DTD, "hostile"),
        (UTF16_DTD, "hostile"),
        (LATIN1_DTD, "hostile"),
        (DTD_AFTER_COMMENT, "hostile"),
        (UNDECLARED_ENTITY, "malformed"),
        (DTD_AFTER_ROOT, "malformed"),
        (GOOD[:-20], "malformed"),
        (b"", "malformed"),
        (b"\x00\xff\xfe garbage", "malformed"),
        (b'{"code": "0000"}', "malformed"),
        (b"<Checkpoints/>", "unexpected root"),  # no namespace
        (b'<Checkpoints xmlns="urn:other"/>', "unexpected root"),
        (f'<Error xmlns="{NS}"/>'.encode(), "unexpected root"),  # right namespace, wrong root
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "external-dtd",
        "dtd",
        "utf16-dtd",
        "latin1-dtd",
        "dtd-after-comment",
        "undeclared-entity",
        "dtd-after-root",
        "truncated",
        "empty",
        "binary",
        "json",
        "no-namespace",
        "wrong-namespace",
        "wrong-root",
    ],
)
def test_bad_bodies_are_contract_errors(body: bytes, why: str) -> None:
    with pytest.raises(UpstreamContract, match=why) as caught:
        xml.parse_document(body, ("Checkpoints",), endpoint="/checkpoints")
    assert caught.value.endpoint == "/checkpoints"
    # The hostile payload is never echoed into the message.
    assert "lol" not in caught.value.message
    assert "passwd" not in caught.value.message


def test_any_root_still_needs_the_namespace() -> None:
    assert xml.parse_document(f'<Anything xmlns="{NS}"/>'.encode()).tag == f"{{{NS}}}Anything"
    with pytest.raises(UpstreamContract):
        xml.parse_document(b"<Anything/>")


def test_namespace_aware_helpers() -> None:
    root = xml.parse_document(GOOD, ("Checkpoints",))
    point = xml.required_child(root, "Checkpoint", "Checkpoints")
    assert xml.child_text(point, "Code") == "55201011"  # stripped
    assert xml.child_text(point, "NameLatin") is None  # empty counts as absent
    assert xml.child_text(point, "Missing") is None
    assert xml.required_text(point, "Name", "Checkpoint #1") == "Нұр Жолы"
    with pytest.raises(UpstreamContract, match=r"Checkpoint #1: missing or empty field NameLatin"):
        xml.required_text(point, "NameLatin", "Checkpoint #1")
    with pytest.raises(UpstreamContract, match="missing element Nope"):
        xml.required_child(root, "Nope", "Checkpoints")
    # An element of the same local name in another namespace is not ours.
    foreign = xml.parse_document(
        f'<Checkpoints xmlns="{NS}"><Code xmlns="urn:other">1</Code></Checkpoints>'.encode()
    )
    assert xml.child_text(foreign, "Code") is None


@pytest.mark.parametrize("hostile", ["../../auth/token", "a/b", "..", ".", "x?limit=1#f", "batch%2F1", ""])
def test_an_id_stays_one_path_segment(hostile: str) -> None:
    url = httpx.URL("http://kgd.test/api/v1" + resource_path("preliminary-information", hostile))
    segments = url.raw_path.decode().split("/")
    assert segments[:4] == ["", "api", "v1", "preliminary-information"]
    assert len(segments) == 5
    assert url.query == b""


@given(st.text(min_size=1, max_size=40).filter(lambda s: s not in (".", "..")))
def test_resource_path_round_trips_any_id(identifier: str) -> None:
    url = httpx.URL("http://kgd.test/api/v1" + resource_path("preliminary-information", identifier))
    segments = url.raw_path.decode().split("/")
    assert len(segments) == 5
    assert unquote(segments[4]) == identifier
