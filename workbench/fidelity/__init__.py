"""Product fidelity: evidence that the product in an output is still the reference's product.

Pure scoring, no ledger (``score``): a product mask per image (:mod:`.mask`), a similarity alignment of the
reference product onto the output's (:mod:`.align`), five rules — ``presence``, ``colour``, ``shape``,
``detail``, ``label`` (:mod:`.rules`, OCR in :mod:`.ocr`) — a heatmap PNG (:mod:`.heatmap`) and the report
(:mod:`.report`). Thresholds come from ``[fidelity]`` (:mod:`.thresholds`)::

    from workbench.fidelity import FidelitySettings, score
    report = score(output_png, [reference_png], FidelitySettings.from_settings(project.settings))
    report.passed, report.score, report.failed, report.rule("colour").value
"""

from .report import FidelityReport, RuleResult
from .score import score
from .thresholds import RULES, FidelitySettings

__all__ = ["RULES", "FidelityReport", "FidelitySettings", "RuleResult", "score"]
