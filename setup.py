import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def parse_requirements(*names):
    """Requirement lines of requirements/<name>.txt, comments dropped."""
    reqs = []
    for name in names:
        for line in (HERE / 'requirements' / f'{name}.txt').read_text().splitlines():
            line = line.split('#', 1)[0].strip()
            if line:
                reqs.append(line)
    return reqs


def get_version():
    text = (HERE / 'simmim_mm' / 'version.py').read_text()
    return re.search(r"__version__ = '([^']+)'", text).group(1)


setup(
    name='simmim_mm',
    version=get_version(),
    description='SimMIM masked image modeling as an OpenMMLab / MMEngine plugin',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    # torch >= 2.6 supports Python >= 3.9; measured here on 3.11 (.venv) and 3.12 (GPU)
    python_requires='>=3.9',
    packages=find_packages(include=['simmim_mm', 'simmim_mm.*']),
    # OpenMMLab's `.mim` convention: configs, tools and the model index inside the package
    # (simmim_mm/.mim holds links to the top-level folders; a wheel gets copies)
    package_data={
        'simmim_mm': [
            '.mim/model-index.yml', '.mim/configs/**/*.py', '.mim/configs/**/*.yml',
            '.mim/tools/**/*.py', '.mim/tools/*.sh'
        ]
    },
    install_requires=parse_requirements('runtime'),
    extras_require={
        'downstream': parse_requirements('downstream'),
        'tests': parse_requirements('tests'),
    },
    zip_safe=False,
)
