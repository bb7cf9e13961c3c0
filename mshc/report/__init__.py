"""Tables and figures rebuilt from metrics files only; never loads models or embeddings."""
