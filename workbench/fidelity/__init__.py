"""Product fidelity: evidence that the product in an output is still the reference's product.

Pure scoring, no ledger (``score``): a product mask per image (:mod:`.mask`), a similarity alignment of the
reference product onto the output's (:mod:`.align`), five rules — ``presence``, ``colour``, ``shape``,
``detail``, ``label`` (:mod:`.rules`, OCR in :mod:`.ocr`) — a heatmap PNG (:mod:`.heatmap`) and the report
(:mod:`.report`). Thresholds come from ``[fidelity]`` (:mod:`.thresholds`)::

    from workbench.fidelity import FidelitySettings, score
    report = score(output_png, [reference_png], FidelitySettings.from_settings(project.settings))
    report.passed, report.score, report.failed, report.rule("colour").value
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .report import FidelityReport, RuleResult
    from .scoring import score
    from .service import Fidelity
    from .thresholds import RULES, FidelitySettings

__all__ = ["RULES", "Fidelity", "FidelityReport", "FidelitySettings", "RuleResult", "score"]

# the scoring stack (OpenCV, scikit-image, onnxruntime) loads on first use, not when the facade is imported
__getattr__, __dir__ = lazy_exports(__name__, {
    "RULES": ".thresholds", "FidelitySettings": ".thresholds", "FidelityReport": ".report", "RuleResult": ".report",
    "score": ".scoring", "Fidelity": ".service"})
