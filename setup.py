"""Build of asrkt's one compiled module (metadata and dependencies: setup.cfg).

asrkt.decode._latgen is the lattice-generating beam search of the LM-weight sweep (C++,
pybind11): the Kaldi wheels expose no raw lattice from a search bounded by max-active. It is
compiled by `pip install` with the machine's C++ compiler (g++ 12 here).
"""

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

setup(
    ext_modules=[Pybind11Extension("asrkt.decode._latgen", ["asrkt/decode/_latgen.cpp"],
                                   cxx_std=17, extra_compile_args=["-O2"])],
    cmdclass={"build_ext": build_ext},
)
