"""Request and response models of the store API (pydantic v2).

Requests are strict: unknown fields (a client-sent price or total), strings for numbers,
floats and booleans are refused with 400 `invalid_request`.
"""
