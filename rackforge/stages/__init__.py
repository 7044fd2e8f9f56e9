"""The stages of the pipeline, one module each (see :mod:`rackforge.pipeline`).

A stage module is the only glue between domains: its ``run`` takes the scenario sections listed
in ``SECTIONS`` and the typed results of the upstream stages it names, calls the domain
packages and returns a typed, immutable result. A stage never imports another stage; the
pipeline finds the modules of this package and orders them from their declarations.
"""
