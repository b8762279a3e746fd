# Stamped from sdk/VERSION by scripts/generate.py. DO NOT EDIT.
__version__ = "0.1.0"
