"""rackforge: co-design, evaluate, source, build and deploy AI data-center racks."""

__version__ = "0.1.0"
