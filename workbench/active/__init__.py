"""Active learning and model-assisted labeling.

:class:`AutoAccept` chooses, on gold, the confidence above which model drafts are accepted
without review, with a guaranteed precision (fixed-sequence Clopper-Pearson testing).
"""

from workbench.active._auto_accept import AutoAccept, clopper_pearson_lower

__all__ = ["AutoAccept", "clopper_pearson_lower"]
