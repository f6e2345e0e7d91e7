"""Packaging of detnas_mm.

The shipped configs and tools are exposed to ``mim`` through
``detnas_mm/.mim`` (symlinks in the repository, so an editable install sees
them; setuptools follows them when it builds a wheel).
"""
from setuptools import find_packages, setup


def read_version():
    namespace = {}
    with open('detnas_mm/version.py') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(path):
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


setup(
    name='detnas_mm',
    version=read_version(),
    description='DetNAS backbone search for object detection, '
    'as an OpenMMLab add-on',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    include_package_data=True,
    package_data={'detnas_mm': ['.mim/configs/**/*', '.mim/tools/**/*',
                                '.mim/model-index.yml']},
    python_requires='>=3.8',
    install_requires=read_requirements('requirements/runtime.txt'),
    entry_points={'console_scripts': [
        'detnas-pipeline=detnas_mm.pipeline:main',
    ]},
    zip_safe=False)
