"""schema.graphql is the exported SDL: partner agencies and supergraph tooling read the file."""

from __future__ import annotations

from pathlib import Path

from customs_gateway.cli import main, schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_sdl(), (
        "schema.graphql is out of date: run `customs-gateway export-schema`"
    )


def test_export_schema_check_detects_drift(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { stale: Int }\n", encoding="utf-8")
    assert main(["export-schema", "--output", str(stale), "--check"]) == 1
    assert main(["export-schema", "--output", str(stale)]) == 0
    assert main(["export-schema", "--output", str(stale), "--check"]) == 0
    assert stale.read_text(encoding="utf-8") == schema_sdl()


def test_every_type_and_field_is_described() -> None:
    from customs_gateway.schema import build_schema

    schema = build_schema()._schema
    undocumented = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith(("_", "link__")) or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue  # introspection, federation and built-in types are described by their specs
        if name != "Query" and not getattr(graphql_type, "description", None):
            undocumented.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field_name.startswith("_") and not field.description:
                undocumented.append(f"{name}.{field_name}")
    assert undocumented == []
