"""Where the shipped configs and tools are: ``detnas_mm/.mim``.

An editable install sees the repository's ``configs/`` and ``tools/``
through the ``.mim`` links, a wheel carries copies; ``mim`` looks there
too.
"""
import os.path as osp

PACKAGE_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _shipped(name: str) -> str:
    for root in (osp.join(PACKAGE_ROOT, '.mim', name),
                 osp.join(osp.dirname(PACKAGE_ROOT), name)):
        if osp.isdir(root):
            return root
    raise FileNotFoundError(
        f'Cannot find the {name} of detnas_mm under '
        f'{PACKAGE_ROOT}/.mim/{name} (reinstall the package)')


def configs_root() -> str:
    """The shipped ``configs`` folder."""
    return _shipped('configs')


def tools_root() -> str:
    """The shipped ``tools`` folder."""
    return _shipped('tools')
