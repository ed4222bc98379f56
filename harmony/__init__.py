"""Harmony: a FAIR catalog of haematology trial datasets and governed access to them."""

__version__ = "0.1.0"
