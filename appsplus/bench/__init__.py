"""`bench`: generate -> execute -> pass@k by difficulty -> report; `appsplus.bench.api` is its Python API."""
