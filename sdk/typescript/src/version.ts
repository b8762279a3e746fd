// Written by scripts/stamp-version.mjs from sdk/VERSION; do not edit.

/** The version of this SDK (sdk/VERSION). */
export const VERSION = "0.1.0";
