"""The four salesflow workers; each package is independent of the others."""
