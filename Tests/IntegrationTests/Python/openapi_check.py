#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks docs/openapi/marathon-v2.yaml: a valid OpenAPI 3.0 document (openapi-spec-validator), every $ref
resolves, and every operation has an operationId and documents its responses.

Usage: python openapi_check.py [path/to/marathon-v2.yaml]   (exit 0 when valid; prints a summary)
"""
import os
import sys

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "openapi", "marathon-v2.yaml")
    try:
        spec, base_uri = read_from_filename(path)
        validate(spec, base_uri=base_uri)
    except Exception as error:  # the validator's errors name the failing part of the document
        message = str(error).splitlines()
        print(f"FAIL: {path} is not a valid OpenAPI document: " + "\n".join(message[:3] + ["..."] + message[-12:]))
        return 1
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    problems = []
    operations = 0
    ids = set()
    for route, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            operations += 1
            operation_id = operation.get("operationId")
            if not operation_id:
                problems.append(f"{method.upper()} {route}: no operationId")
            elif operation_id in ids:
                problems.append(f"{method.upper()} {route}: operationId {operation_id} is used twice")
            ids.add(operation_id)
            if not operation.get("responses"):
                problems.append(f"{method.upper()} {route}: no responses")
    if not document.get("openapi", "").startswith("3.0"):
        problems.append("the document must be OpenAPI 3.0.x")
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"openapi: {os.path.relpath(path, ROOT)}: {len(document['paths'])} paths, {operations} operations, "
          f"{'valid' if not problems else f'{len(problems)} problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
