"""Flows: Bytewax dataflows assembled from the library's steps."""
