"""The base of engines whose models come from the model catalogue (workbench/models/data): the model a request
runs on is checked against the catalogue's lifecycle (a retired one is refused, a dying one warns), and the
catalogue's entry gives its capabilities and prices."""

from __future__ import annotations

from workbench.models import ModelInfo, check_model, load_catalogue
from workbench.plugins.engine import Engine, EngineRequest


class CataloguedEngine(Engine):
    """An engine with catalogued models (Gemini, OpenAI): lifecycle checks and catalogue lookups by ``name``."""

    def model_for(self, request: EngineRequest) -> str:
        """The model a request runs on; a retired one is refused (naming its replacement), a dying one warns."""
        model = super().model_for(request)
        check_model(self.name, model)
        return model

    def info(self, model: str) -> ModelInfo | None:
        """The catalogue's entry for ``model`` (None when it is not catalogued)."""
        return load_catalogue().get(self.name, model)
