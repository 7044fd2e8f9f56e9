"""``rackforge catalog list|show``."""
