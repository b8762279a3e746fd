"""Generated protobuf modules (see scripts/generate.py)."""
