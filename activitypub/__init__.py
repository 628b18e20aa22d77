"""ActivityPub protocol library: vocabulary, documents, keys, signatures, discovery, safe fetching.

Pure and framework-free; imports only the standard library, cryptography and httpx.
"""
