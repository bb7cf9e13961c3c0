"""Dataset registry, upstream file formats, fetching and canonical tables."""
