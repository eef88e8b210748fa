"""Shopify's published Admin GraphQL schema, as the Shopify fake validates and executes documents with it.

The schema is the one Shopify ships in its own npm package ``@shopify/dev-mcp`` (see
``tests/fakes/schemas/README.md`` for the version, the file's hash and how to refresh it). It is an
introspection result plus, per field, the access scopes Shopify requires (``offline_scopes``).

:func:`admin_schema` loads it once per process (≈1 s). :func:`check_document` parses and validates a document
the way a GraphQL server does (graphql-core's specified rules: unknown fields and arguments, wrong argument
and variable types, missing required arguments, unused or undefined variables, bad fragments…), and also
refuses deprecated fields, arguments, input fields and enum values: Shopify still serves those, but each one
is scheduled for removal, so a client that uses one breaks on a later version. Variables are coerced
against their declared types when the document is executed (graphql-core's ``execute``).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    NoDeprecatedCustomRule,
    OperationDefinitionNode,
    build_client_schema,
    parse,
    specified_rules,
    validate,
)

__all__ = ["API_VERSION", "SCHEMA_FILE", "AdminSchema", "admin_schema", "check_document", "format_error",
           "required_access", "root_fields"]

#: The Admin API version whose schema is vendored (the channel's default; see the schemas README).
API_VERSION = "2026-10"
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / f"shopify_admin_{API_VERSION}.json.gz"


@dataclass(frozen=True)
class AdminSchema:
    """The executable schema and, per (type, field), the access scopes Shopify needs (any one suffices) and
    its wording of that requirement."""

    version: str
    schema: GraphQLSchema
    scopes: dict[tuple[str, str], tuple[tuple[str, ...], str]]


@lru_cache(maxsize=1)
def admin_schema() -> AdminSchema:
    """Load the vendored schema (cached for the process)."""
    raw = json.loads(gzip.decompress(SCHEMA_FILE.read_bytes()))
    # assume_valid: graphql-core ≥ 3.3 checks the schema itself against a newer spec rule (an implementation
    # may deprecate a field only where its interface does), which Shopify's published schema does not meet
    # (e.g. MediaImage.metafield). That rule concerns the schema, not the documents we validate against it.
    schema = build_client_schema(raw["data"], assume_valid=True)
    scopes = {(it["typeName"], it["fieldName"]): (tuple(it.get("offlineScopes") or ()), str(it.get("requiredAccess") or ""))
              for it in raw.get("offline_scopes", {}).get("items", []) if it.get("type") == "field"}
    return AdminSchema(API_VERSION, schema, scopes)


def check_document(query: str, operation_name: str | None = None) -> tuple[DocumentNode | None,
                                                                           OperationDefinitionNode | None,
                                                                           list[GraphQLError]]:
    """Parse and validate ``query``; return (document, the operation to run, errors)."""
    schema = admin_schema().schema
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, None, [exc]
    errors = validate(schema, document, [*specified_rules, NoDeprecatedCustomRule])
    if errors:
        return document, None, errors
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
        if not operations:
            return document, None, [GraphQLError(f"Unknown operation named '{operation_name}'.")]
    elif len(operations) != 1:
        return document, None, [GraphQLError("Must provide operation name if query contains multiple operations.")]
    return document, operations[0], []


def root_fields(operation: OperationDefinitionNode) -> list[str]:
    """The names of the operation's top-level fields (what it asks the API to do)."""
    return [sel.name.value for sel in operation.selection_set.selections if isinstance(sel, FieldNode)]


def required_access(root: str, field: str) -> tuple[tuple[str, ...], str]:
    """The access scopes a root field (``Mutation``/``QueryRoot``) needs, and Shopify's sentence about it."""
    return admin_schema().scopes.get((root, field), ((), ""))


def format_error(error: GraphQLError) -> dict[str, Any]:
    """An error as Shopify's GraphQL endpoint shows it (message, locations, path, extensions)."""
    return dict(error.formatted)
