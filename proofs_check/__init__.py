"""Every claim of the seed papers checked numerically or symbolically (``rntk verify``)."""
