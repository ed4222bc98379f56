"""Importers of dataset descriptions: one module per format."""
