"""`make fuzz`: the OpenAPI document against the running code (see fuzz/__main__.py)."""
