"""Strict fake provider and channel servers, served over real HTTP on loopback for the tests."""
