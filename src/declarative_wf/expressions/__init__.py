"""Expression languages: JSONPath and the ASL intrinsic functions (more to come)."""
