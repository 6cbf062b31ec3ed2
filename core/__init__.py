"""Ganvas engine: torch, numpy and OpenCV only (never Qt), usable from scripts and servers."""

__version__ = "0.1.0"
