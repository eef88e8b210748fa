"""Strict fake servers for the export channels (Shopify, WooCommerce, Cloudinary, project tools)."""
