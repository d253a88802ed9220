"""Curation (`appsplus build`): a source's rows -> typed problems -> filters -> verification -> APPS+ records.

    from appsplus.curate.pipeline import build
    build("sample", "apps-plus-sample")

`normalize` (raw row -> `Problem`), `filters` (static checks), `verify` (execute every
solution on every test), `cache` (content-addressed execution results), `manifest` (counts,
hashes, the dataset card), `pipeline` (the steps wired together) and `sample_dataset` (the
embedded sample, built once and cached).
"""
