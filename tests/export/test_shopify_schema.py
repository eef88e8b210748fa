"""Shopify refereed by Shopify's published Admin schema: our documents validate, the fake refuses what Shopify
would (unknown fields, wrong variable types, deprecated mutations, missing scopes), and replacements use the
current file mutations."""

from __future__ import annotations

import httpx
import pytest
from fakes.channels.shopify import FakeShopify
from fakes.channels.shopify_schema import API_VERSION, admin_schema, check_document
from fakes.harness import LoopbackServer
from workbench_channels import shopify as client

from .export_seed import set_channel

pytestmark = pytest.mark.network
TOKEN = "shpat_SECRETshopify0000002"
DOCUMENTS = {name: value for name, value in vars(client).items()
             if name.startswith("_") and isinstance(value, str) and value.lstrip().startswith(("query", "mutation"))}


def test_the_channel_targets_the_vendored_schemas_version():
    assert client.API_VERSION == API_VERSION == admin_schema().version
    assert admin_schema().schema.mutation_type.fields["productDeleteMedia"].deprecation_reason == \
        "Use `fileUpdate` instead."


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_document_the_channel_sends_is_valid_and_uses_nothing_deprecated(name):
    assert len(DOCUMENTS) >= 7
    _, operation, errors = check_document(DOCUMENTS[name])
    assert not errors, [e.message for e in errors]
    assert operation is not None


@pytest.fixture
def server():
    fake = FakeShopify(TOKEN)
    with LoopbackServer(fake.app) as srv:
        fake.base = srv.url
        yield fake, f"{srv.url}/admin/api/{API_VERSION}/graphql.json"


def _post(url, query, variables=None, version=None):
    if version:
        url = url.replace(API_VERSION, version)
    return httpx.post(url, headers={"X-Shopify-Access-Token": TOKEN},
                      json={"query": query, "variables": variables or {}})


def test_the_fake_refuses_what_the_schema_refuses(server):
    fake, url = server
    pid = fake.add_product("red-mug")
    cases = {
        "deprecated": ("mutation d($p: ID!, $m: [ID!]!) { productDeleteMedia(productId: $p, mediaIds: $m) "
                       "{ deletedMediaIds } }", {"p": pid, "m": ["gid://shopify/MediaImage/1"]},
                       "productDeleteMedia is deprecated"),
        "unknown field": ("query q($id: ID!) { product(id: $id) { id imagez } }", {"id": pid},
                          "Cannot query field 'imagez' on type 'Product'"),
        "wrong variable type": ("query q($id: Int!) { product(id: $id) { id } }", {"id": 5},
                                "Variable '$id' of type 'Int!' used in position expecting type 'ID!'"),
        "missing input field": ("mutation s($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) "
                                "{ stagedTargets { url } } }", {"input": [{"mimeType": "image/jpeg",
                                                                          "resource": "IMAGE"}]},
                                "'filename'"),
        "bad enum": ("mutation s($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) "
                     "{ stagedTargets { url } } }", {"input": [{"filename": "a.jpg", "mimeType": "image/jpeg",
                                                               "resource": "PICTURE"}]},
                     "'PICTURE'"),
    }
    for what, (query, variables, message) in cases.items():
        body = _post(url, query, variables).json()
        assert body.get("data") is None, what
        assert any(message in e["message"] for e in body["errors"]), (what, body["errors"])
        assert "Variable '$input' has invalid value" in body["errors"][0]["message"] or what not in (
            "missing input field", "bad enum")
    # only what was selected comes back
    body = _post(url, "query q($id: ID!) { product(id: $id) { id } }", {"id": pid})
    assert body.json()["data"] == {"product": {"id": pid}}
    assert body.headers["X-Shopify-API-Version"] == API_VERSION


def test_a_retired_version_is_named_with_the_one_shopify_would_serve(server):
    _, url = server
    resp = _post(url, "query { shop { name } }", version="2025-01")
    assert resp.status_code == 400 and "would serve 2026-01" in resp.json()["errors"]


def test_a_token_without_write_files_cannot_replace_and_shopify_says_which_scope(wb, seed, monkeypatch):
    fake = FakeShopify(TOKEN, scopes=("write_products",))
    with LoopbackServer(fake.app) as srv:
        fake.base = srv.url
        set_channel(wb, "shopify", base_url=srv.url, timeout_s=5)
        monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
        fake.add_product("red-mug")
        a = seed.output("SKU-1001")
        seed.catalog("SKU-1001", "red-mug")
        assert wb.export("shopify").ok  # attaching needs write_products only
        seed.rendition(a["version_id"], "shopify_square")
        second = wb.export("shopify")
    assert second.counts == {"failed": 1}
    error = second.failed[0]["error"]
    assert "Access denied for fileDelete field" in error and "write_files" in error


@pytest.mark.parametrize("mode", ["delete", "detach"])
def test_a_changed_rendition_replaces_through_the_file_mutations(wb, seed, monkeypatch, mode):
    fake = FakeShopify(TOKEN)
    with LoopbackServer(fake.app) as srv:
        fake.base = srv.url
        set_channel(wb, "shopify", base_url=srv.url, timeout_s=5, replaced_media=mode)
        monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
        fake.add_product("red-mug")
        a = seed.output("SKU-1001")
        seed.catalog("SKU-1001", "red-mug")
        old = wb.export("shopify").items[0]["remote_id"]
        seed.rendition(a["version_id"], "shopify_square")
        second = wb.export("shopify")
    assert second.counts == {"replaced": 1} and second.items[0]["replaced_remote_id"] == old
    assert [m["id"] for m in fake.media_of("red-mug")] == [second.items[0]["remote_id"]]
    used = [f for call in fake.calls for f in call["fields"]]
    assert ("fileDelete" in used) == (mode == "delete") and ("fileUpdate" in used) == (mode == "detach")
    assert (old in fake.files) == (mode == "detach")  # detached files stay in the Files library
    assert not fake.refused and "productDeleteMedia" not in used
