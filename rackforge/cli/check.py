"""``rackforge check``."""
