"""The shared workspace: a FastAPI server over the stage graph, with SQLAlchemy storage."""
