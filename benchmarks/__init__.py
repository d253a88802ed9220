"""`bench`: generate -> execute -> pass@k by difficulty -> report; `benchmarks.api` is its Python API."""
