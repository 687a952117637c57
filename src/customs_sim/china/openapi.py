"""The simulator's own OpenAPI 3.1 description, served unsigned at ``GET /openapi.json``.

Written by hand as data (not generated from the routes) because it is a contract document:
``docs/wire-china.md`` in machine form. The schemas are strict (every field required, no extra
fields, patterns on times, weights and amounts) so the tests can hold every answer to them.
"""

from __future__ import annotations

import copy
from typing import Any

from customs_sim.china.envelope import MESSAGES

__all__ = ["openapi_document"]

_API = "/gacc/api/v1"
_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _obj(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


_STRING = {"type": "string"}
_TEXT = {"type": "string", "minLength": 1}
_KEYS = {
    "type": "array",
    "minItems": 1,
    "maxItems": 50,
    "items": {"type": "string", "minLength": 1, "maxLength": 64},
}
_ALPHA2 = {"type": "string", "enum": ["CN", "KZ"], "description": "ISO 3166 alpha-2"}

_SCHEMAS: dict[str, Any] = {
    "CnTime": {
        "type": "string",
        "pattern": r"^[0-9]{14}$",
        "description": "yyyyMMddHHmmss, Beijing time (UTC+8), no offset",
        "examples": ["20251128093015"],
    },
    "Weight": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{3}$", "description": "kilograms, 3 decimals"},
    "Amount": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "description": "2 decimals, in currCode"},
    "CurrCode": {"type": "string", "enum": ["142", "502"], "description": "142 CNY (人民币), 502 USD (美元)"},
    "PortCode": {"type": "string", "pattern": r"^[0-9]{4}$", "description": "4-digit customs code"},
    "Port": _obj(
        {
            "portCode": _ref("PortCode"),
            "portName": _TEXT,
            "portNameEn": _TEXT,
            "locode": {"type": "string", "pattern": r"^[A-Z]{5}$"},
            "locodeOfficial": {"type": "boolean", "description": "false: the simulator's own code"},
            "openTime": {"type": "string", "pattern": r"^[0-2][0-9][0-5][0-9]$", "description": "HHmm"},
            "closeTime": {"type": "string", "pattern": r"^[0-2][0-9][0-5][0-9]$", "description": "HHmm"},
            "foreignPortName": _TEXT,
        }
    ),
    "Vehicle": _obj(
        {
            "plateNo": {
                **_TEXT,
                "description": "as Chinese write it: 新F12345, 新F·12345, 新Ｆ１２３４５, 123 ABC 02",
            },
            "country": _ALPHA2,
            "vin": _STRING,
            "brand": _STRING,
        }
    ),
    "Trailer": _obj(
        {"plateNo": {**_TEXT, "description": "Chinese trailer plates end with 挂"}, "country": _ALPHA2}
    ),
    "Driver": _obj(
        {
            "name": {**_TEXT, "description": "Chinese characters for Chinese drivers, Latin otherwise"},
            "nameEn": _TEXT,
            "passportNo": _TEXT,
            "nationality": {"type": "string", "enum": ["CHN", "KAZ"], "description": "ISO 3166 alpha-3"},
        }
    ),
    "Company": _obj({"code": _TEXT, "name": _TEXT, "country": _ALPHA2}),
    "GoodsItem": _obj(
        {
            "gNo": {"type": "integer", "minimum": 1},
            "codeTs": {
                "type": "string",
                "pattern": r"^([0-9]{10}|[0-9]{13})$",
                "description": "10 digits, or 13 with inspection digits; HS-6 = first 6",
            },
            "gName": _TEXT,
            "packNo": {"type": "integer", "minimum": 0},
            "packType": {**_TEXT, "description": "UN/ECE Rec. 21 package code"},
            "grossWt": _ref("Weight"),
            "netWt": _ref("Weight"),
            "declTotal": _ref("Amount"),
            "currCode": _ref("CurrCode"),
        }
    ),
    "Manifest": _obj(
        {
            "batchNo": {
                "type": "string",
                "pattern": r"^[0-9]{4}[IE][0-9]{8}[0-9]{5}$",
                "description": "portCode + ieFlag + yyyyMMdd + 5-digit sequence",
            },
            "commonManifestNo": _nullable({**_TEXT, "description": "null at crossings in phase 0"}),
            "portCode": _ref("PortCode"),
            "portName": _TEXT,
            "ieFlag": {"type": "string", "enum": ["I", "E"], "description": "E export, I import"},
            "status": {"type": "string", "enum": ["10", "20", "30", "40"]},
            "statusName": {"type": "string", "enum": ["已申报", "已进境", "已出境", "已放行"]},
            "declTime": _ref("CnTime"),
            "ieTime": _nullable(_ref("CnTime")),
            "releaseTime": _nullable(_ref("CnTime")),
            "vehicle": _ref("Vehicle"),
            "trailer": _nullable(_ref("Trailer")),
            "driver": _ref("Driver"),
            "carrier": _ref("Company"),
            "consignor": _ref("Company"),
            "consignee": _ref("Company"),
            "containers": {
                "type": "array",
                "items": {"type": "string", "pattern": r"^[A-Z]{3}[UJZ][0-9]{7}$", "description": "ISO 6346"},
            },
            "seals": {"type": "array", "items": _TEXT},
            "currCode": _ref("CurrCode"),
            "totalPackNo": {"type": "integer", "minimum": 0},
            "totalGrossWt": _ref("Weight"),
            "totalAmount": _ref("Amount"),
            "goods": {"type": "array", "minItems": 1, "items": _ref("GoodsItem")},
        },
        "One road manifest (公路舱单), one truck trip. Status E: 10 已申报, 30 已出境; "
        "I: 10 已申报, 20 已进境, 40 已放行.",
    ),
    "Inspection": _obj(
        {
            "inspectionNo": _TEXT,
            "batchNo": _TEXT,
            "commonManifestNo": _nullable({**_TEXT, "description": "null at phase-0 crossings"}),
            "inspType": {"type": "string", "enum": ["1", "2", "3"]},
            "inspTypeName": {"type": "string", "enum": ["H986机检", "人工查验", "开箱查验"]},
            "startTime": _ref("CnTime"),
            "endTime": _ref("CnTime"),
            "result": {"type": "string", "enum": ["1", "2"]},
            "resultName": {"type": "string", "enum": ["正常", "异常"]},
            "customsCode": _TEXT,
            "remark": _STRING,
        },
        "One inspection by Chinese customs: 1 H986机检, 2 人工查验, 3 开箱查验; result 1 正常, 2 异常.",
    ),
    "PortList": _obj({"list": {"type": "array", "items": _ref("Port")}}),
    "ManifestPage": _obj(
        {
            "total": {"type": "integer", "minimum": 0},
            "pageNum": {"type": "integer", "minimum": 1},
            "pageSize": {"type": "integer", "minimum": 1, "maximum": 100},
            "list": {"type": "array", "maxItems": 100, "items": _ref("Manifest")},
        }
    ),
    "InspectionPage": _obj(
        {
            "total": {"type": "integer", "minimum": 0},
            "pageNum": {"type": "integer", "minimum": 1},
            "pageSize": {"type": "integer", "minimum": 1, "maximum": 100},
            "list": {"type": "array", "maxItems": 100, "items": _ref("Inspection")},
        }
    ),
    "ManifestBatch": _obj(
        {
            "list": {"type": "array", "items": _ref("Manifest"), "description": "any order"},
            "notFound": {
                "type": "array",
                "maxItems": 50,
                "items": _STRING,
                "description": "the unknown keys, of the kind asked (batch or common manifest numbers)",
            },
        }
    ),
    "InspectionBatch": _obj(
        {
            "list": {
                "type": "array",
                "items": _ref("Inspection"),
                "description": "every inspection of the known batches, or of the manifests carrying the "
                "known common numbers (a manifest may have none), by startTime then inspectionNo",
            },
            "notFound": {
                "type": "array",
                "maxItems": 50,
                "items": _STRING,
                "description": "the unknown keys, of the kind asked (batch or common manifest numbers)",
            },
        }
    ),
    "BatchQuery": {
        "description": "exactly one of batchNos or commonManifestNos (else E1001); 1–50 keys (else E1002)",
        "oneOf": [
            _obj({"batchNos": _KEYS}),
            _obj({"commonManifestNos": {**_KEYS, "description": "joint-supervision common manifest numbers"}}),
        ],
    },
    "ErrorEnvelope": _obj(
        {
            "code": {"type": "string", "enum": sorted(code for code in MESSAGES if code != "0000")},
            "message": {"type": "string", "description": "Chinese; E1001 appends ': <parameter>'"},
            "data": {"type": "null"},
            "requestId": _TEXT,
        },
        "A business error: still HTTP 200.",
    ),
}


def _success(data_schema: str) -> dict[str, Any]:
    return _obj(
        {
            "code": {"const": "0000"},
            "message": {"const": "成功"},
            "data": _ref(data_schema),
            "requestId": _TEXT,
        }
    )


for _name in ("PortList", "ManifestPage", "Manifest", "ManifestBatch", "InspectionPage", "Inspection",
              "InspectionBatch"):
    _SCHEMAS[f"{_name}Envelope"] = _success(_name)


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_PARAMETERS: dict[str, Any] = {
    "portCode": _query("portCode", _ref("PortCode"), "customs code of the port"),
    "ieFlag": _query("ieFlag", {"type": "string", "enum": ["I", "E"]}, "direction"),
    "startTime": _query("startTime", _ref("CnTime"), "window start, inclusive"),
    "endTime": _query("endTime", _ref("CnTime"), "window end, exclusive"),
    "plateNo": {
        **_query(
            "plateNo",
            {"type": "array", "items": _TEXT, "minItems": 1, "maxItems": 50},
            "matched after removing ·, spaces and full-width forms; repeatable (up to 50 plates, "
            "else E1002): records of any of them",
        ),
        "style": "form",
        "explode": True,
    },
    "commonManifestNo": _query("commonManifestNo", _TEXT, "common manifest id (phase ≥ 1 crossings)"),
    "batchNo": _query("batchNo", _TEXT, "the inspected batch"),
    "pageNum": _query("pageNum", {"type": "integer", "minimum": 1, "default": 1}, "1-based page"),
    "pageSize": _query(
        "pageSize", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "page size"
    ),
    "batchNoPath": {"name": "batchNo", "in": "path", "required": True, "schema": _TEXT},
    "inspectionNoPath": {"name": "inspectionNo", "in": "path", "required": True, "schema": _TEXT},
}

_HEADERS = ("appId", "timestamp", "nonce", "sign")
_HEADER_DOCS = {
    "appId": "the caller's application id",
    "timestamp": "milliseconds since the Unix epoch; rejected (E4004) when more than 300 s off",
    "nonce": "16–64 characters [A-Za-z0-9], never reused within 300 s (E4005)",
    "sign": "lowercase hex HMAC-SHA256 of the string to sign, keyed with the app secret",
}


def _answer(data_schema: str) -> dict[str, Any]:
    return {
        "200": {
            "description": "HTTP 200 always: success or a business error in the envelope",
            "content": {
                "application/json": {
                    "schema": {"oneOf": [_ref(f"{data_schema}Envelope"), _ref("ErrorEnvelope")]}
                }
            },
        },
        "429": {
            "description": "only under overload or injected faults; body not guaranteed JSON",
            "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
        },
        "5XX": {"description": "only under overload or injected faults; body not guaranteed JSON"},
    }


def _op(operation_id: str, summary: str, data_schema: str, parameters: list[str]) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in parameters],
        "responses": _answer(data_schema),
    }


def _batch_op(operation_id: str, summary: str, data_schema: str) -> dict[str, Any]:
    operation = _op(operation_id, summary, data_schema, [])
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": _ref("BatchQuery")}},
        "description": "1–50 keys, else E1002; a malformed body is E1001",
    }
    return operation


_PATHS: dict[str, Any] = {
    f"{_API}/ports": {"get": _op("listPorts", "Road ports (checkpoints)", "PortList", [])},
    f"{_API}/road-manifests": {
        "get": _op(
            "listRoadManifests",
            "Road manifests, ordered by declTime then batchNo",
            "ManifestPage",
            [
                "portCode", "ieFlag", "startTime", "endTime", "plateNo", "commonManifestNo",
                "pageNum", "pageSize",
            ],
        )
    },
    f"{_API}/road-manifests/{{batchNo}}": {
        "get": _op("getRoadManifest", "One road manifest, or E2003", "Manifest", ["batchNoPath"])
    },
    f"{_API}/road-manifests/batch-query": {
        "post": _batch_op(
            "batchGetRoadManifests",
            "Up to 50 road manifests by batch number, or by common manifest number",
            "ManifestBatch",
        )
    },
    f"{_API}/inspections": {
        "get": _op(
            "listInspections",
            "Inspection records, ordered by startTime then inspectionNo",
            "InspectionPage",
            ["portCode", "startTime", "endTime", "batchNo", "pageNum", "pageSize"],
        )
    },
    f"{_API}/inspections/{{inspectionNo}}": {
        "get": _op("getInspection", "One inspection record, or E2004", "Inspection", ["inspectionNoPath"])
    },
    f"{_API}/inspections/batch-query": {
        "post": _batch_op(
            "batchGetInspections",
            "Every inspection of up to 50 batches, or of the manifests carrying up to 50 common numbers",
            "InspectionBatch",
        )
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document (unsigned)",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
        }
    },
}

_DESCRIPTION = """Simulated GACC (China customs) road-manifest API.

Every call under /gacc/api/v1/ carries the headers appId, timestamp, nonce and sign.
sign = lowercase hex HMAC-SHA256, keyed with the app secret, of six lines joined by "\\n":
METHOD, the path exactly as sent (percent-encoded), the canonical query (pairs sorted by name then
value, each quote(name)=quote(value) with RFC 3986 encoding, joined by "&"; empty without a query),
the lowercase hex SHA-256 of the body (of b"" for GET), the timestamp, the nonce.

Every answer is HTTP 200 with {"code", "message", "data", "requestId"}; code "0000" is success,
any other code is a business error with data null."""

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "GACC road manifest API (simulated)", "version": "1.0.0", "description": _DESCRIPTION},
    "servers": [{"url": "/"}],
    "security": [{name: [] for name in _HEADERS}],
    "paths": _PATHS,
    "components": {
        "schemas": _SCHEMAS,
        "parameters": _PARAMETERS,
        "securitySchemes": {
            name: {"type": "apiKey", "in": "header", "name": name, "description": _HEADER_DOCS[name]}
            for name in _HEADERS
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """A fresh copy, so no caller can alter the served document."""
    return copy.deepcopy(_DOCUMENT)
