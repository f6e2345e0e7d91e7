from .io import atomic_write_json, atomic_write_text
from .paths import configs_root, tools_root

__all__ = [
    'atomic_write_json', 'atomic_write_text', 'configs_root', 'tools_root'
]
