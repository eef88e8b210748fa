"""Ready-to-import product CSVs: Shopify (current and legacy templates) and WooCommerce.

Shopify groups rows by handle: the first row of a product carries its title and the featured image
(position 1); each further image is a row with only the handle, image URL, position and alt text. The
current (2024+) template names the columns ``URL handle`` / ``Product image URL`` / ``Image position`` /
``Image alt text``; the legacy template ``Handle`` / ``Image Src`` / ``Image Position`` /
``Image Alt Text``. Both files are written because which one a given store's importer accepts varies.

WooCommerce's importer takes one row per product with ``Images`` as a comma-separated URL list (the
first is the featured image), matching existing products by ``ID`` or ``SKU``.

Image URLs must be publicly fetchable by the importer: the caller passes the best URL it has (a CDN
URL from another channel, or ``public_base_url`` + the file's path).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

__all__ = ["SHOPIFY_HEADERS", "SHOPIFY_LEGACY_HEADERS", "WOOCOMMERCE_HEADERS", "shopify_csv", "woocommerce_csv"]

SHOPIFY_HEADERS = [
    "Title", "URL handle", "Description", "Vendor", "Product category", "Type", "Tags",
    "Published on online store", "Status", "SKU", "Barcode", "Option1 name", "Option1 value",
    "Option1 Linked To", "Option2 name", "Option2 value", "Option2 Linked To", "Option3 name", "Option3 value",
    "Option3 Linked To", "Price", "Compare-at price", "Cost per item", "Charge tax", "Tax code",
    "Unit price total measure", "Unit price total measure unit", "Unit price base measure",
    "Unit price base measure unit", "Inventory tracker", "Inventory quantity",
    "Continue selling when out of stock", "Weight value (grams)", "Weight unit for display",
    "Requires shipping", "Fulfillment service", "Product image URL", "Image position", "Image alt text",
    "Variant image URL", "Gift card", "SEO title", "SEO description",
]

SHOPIFY_LEGACY_HEADERS = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name", "Option3 Value",
    "Variant SKU", "Variant Grams", "Variant Inventory Tracker", "Variant Inventory Qty",
    "Variant Inventory Policy", "Variant Fulfillment Service", "Variant Price", "Variant Compare At Price",
    "Variant Requires Shipping", "Variant Taxable", "Variant Barcode", "Image Src", "Image Position",
    "Image Alt Text", "Gift Card", "SEO Title", "SEO Description", "Variant Image", "Variant Weight Unit",
    "Variant Tax Code", "Cost per item", "Status",
]

WOOCOMMERCE_HEADERS = [
    "ID", "Type", "SKU", "Name", "Published", "Short description", "Description", "Regular price",
    "Categories", "Tags", "Images",
]


def _write(headers: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(headers), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buf.getvalue()


def _group(images: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for img in images:
        grouped.setdefault(img["handle"], []).append(img)
    return grouped


def shopify_csv(images: Sequence[dict[str, Any]], legacy: bool = False) -> str:
    """Shopify product CSV. ``images``: dicts with handle, title, sku, url, alt (in display order)."""
    h_handle, h_url, h_pos, h_alt = (("Handle", "Image Src", "Image Position", "Image Alt Text") if legacy else
                                     ("URL handle", "Product image URL", "Image position", "Image alt text"))
    rows: list[dict[str, Any]] = []
    for handle, imgs in _group(images).items():
        for pos, img in enumerate(imgs, start=1):
            row: dict[str, Any] = {h_handle: handle, h_url: img["url"], h_pos: pos, h_alt: img.get("alt", "")}
            if pos == 1:
                row["Title"] = img.get("title") or handle
                if legacy:
                    row.update({"Variant SKU": img.get("sku") or "", "Published": "TRUE", "Status": "active"})
                else:
                    row.update({"SKU": img.get("sku") or "", "Published on online store": "TRUE",
                                "Status": "Active"})
            rows.append(row)
    return _write(SHOPIFY_LEGACY_HEADERS if legacy else SHOPIFY_HEADERS, rows)


def woocommerce_csv(images: Sequence[dict[str, Any]]) -> str:
    """WooCommerce product CSV: one row per product, ``Images`` comma-separated (featured first)."""
    rows = []
    for handle, imgs in _group(images).items():
        first = imgs[0]
        rows.append({"ID": first.get("woocommerce_product_id") or "", "Type": "simple",
                     "SKU": first.get("sku") or handle, "Name": first.get("title") or handle, "Published": 1,
                     "Images": ", ".join(i["url"] for i in imgs)})
    return _write(WOOCOMMERCE_HEADERS, rows)
