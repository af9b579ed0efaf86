"""Local plugins: marketplaces on disk (``marketplace.py``), plugin manifests and what a
plugin brings (``manifest.py``), and the installed-plugin cache (``store.py``)."""
