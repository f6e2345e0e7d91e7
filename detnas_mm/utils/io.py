"""Files written atomically: a reader sees the old file or the new one.

Search states, reports and stage markers are rewritten while a run may be
killed at any moment; writing to a temporary file in the same folder,
``fsync`` and ``os.replace`` never leaves a torn file behind.
"""
import json
import os
import tempfile
from typing import Any


def atomic_write_text(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` so readers see old or new, not half."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix='.' + os.path.basename(path) + '.')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_json(path: str, obj: Any, indent=None) -> None:
    """:func:`atomic_write_text` of ``obj`` as JSON, newline-terminated."""
    atomic_write_text(path, json.dumps(obj, indent=indent) + '\n')
