"""Image sets: listing and reading the benchmark folders."""
