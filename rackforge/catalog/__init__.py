"""The parts catalog: pydantic part models and the loader of the shipped YAML."""

from rackforge.catalog.loader import Catalog, load_catalog
from rackforge.catalog.models import KINDS, Part, Source

__all__ = ["Catalog", "KINDS", "Part", "Source", "load_catalog"]
