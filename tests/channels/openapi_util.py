"""OpenAPI 3.0 description -> JSON Schemas for property-based conformance tests.

Requests are generated with hypothesis-jsonschema and responses validated with jsonschema,
straight from ``docs/ivr-openapi.yaml``.  (schemathesis does the same on top of these two
libraries, but every release that fits Rasa 3.6's pins - jsonschema < 4.18, attrs 22.1 -
ships a pytest plugin that fails to import with the project's Werkzeug 3 and would break
the whole test run.)
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, Optional

import jsonschema
import yaml

OPENAPI_ONLY = {"discriminator", "example", "examples", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly"}


class OpenApi:
    def __init__(self, path: Path) -> None:
        self.spec: Dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))

    def _ref(self, ref: str) -> Any:
        node: Any = self.spec
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return node

    def resolve(self, schema: Any) -> Any:
        """Inline ``$ref``s and drop OpenAPI-only keywords (the spec has no recursive refs)."""
        if isinstance(schema, dict):
            if "$ref" in schema:
                return self.resolve(copy.deepcopy(self._ref(schema["$ref"])))
            return {k: self.resolve(v) for k, v in schema.items() if k not in OPENAPI_ONLY}
        if isinstance(schema, list):
            return [self.resolve(item) for item in schema]
        return schema

    def operation(self, path: str, method: str) -> Dict[str, Any]:
        return self.spec["paths"][path][method.lower()]

    def request_schema(self, path: str, method: str, media: str = "application/json") -> Dict[str, Any]:
        return self.resolve(self.operation(path, method)["requestBody"]["content"][media]["schema"])

    def response_schema(self, path: str, method: str, status: int,
                        media: str = "application/json") -> Optional[Dict[str, Any]]:
        responses = self.operation(path, method)["responses"]
        entry = responses.get(str(status)) or responses.get("default")
        if entry is None:
            raise AssertionError(f"status {status} is not documented for {method} {path}")
        content = entry.get("content") or {}
        if not content:
            return None
        if media not in content:
            raise AssertionError(f"{media} is not documented for {status} of {method} {path}")
        return self.resolve(content[media]["schema"])

    def check_response(self, path: str, method: str, status: int, content_type: str, body: bytes) -> None:
        """Documented status, documented media type, body valid against its schema."""
        import json

        schema = self.response_schema(path, method, status)
        if schema is None:
            return
        assert content_type.split(";")[0].strip() == "application/json", content_type
        jsonschema.Draft4Validator(schema).validate(json.loads(body.decode("utf-8")))
