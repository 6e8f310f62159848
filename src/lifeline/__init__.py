"""Lifeline: change-data-capture processing into one golden customer record."""

__version__ = "0.1.0"
