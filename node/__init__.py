"""conode: the application (web app, storage, federation, CLI)."""

__version__ = "0.1.0"
