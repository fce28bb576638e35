"""Helpers around modules: gradient clipping."""
