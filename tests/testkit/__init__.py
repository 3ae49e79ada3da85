"""Helpers the tests share (importable as ``testkit`` from any test module)."""
