"""APPS+ quality steps: duplicates, decontamination, test strength, augmentation, flags.

The build runs them (see `appsplus.build`); each is a filter with a rejection reason or a
measurement stored in the record's `quality` column, with counts in the manifest.

    from appsplus.quality import QualityConfig, Quality
"""

from appsplus.quality.models import FLAGS, GeneratedTest, Quality, QualityConfig

__all__ = ["FLAGS", "GeneratedTest", "Quality", "QualityConfig"]
