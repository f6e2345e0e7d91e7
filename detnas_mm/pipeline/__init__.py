"""The whole DetNAS method at CPU size, one command (tools/pipeline.py)."""
from .cli import main
from .stages import Pipeline

__all__ = ['Pipeline', 'main']
