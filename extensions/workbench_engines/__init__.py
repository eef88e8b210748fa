"""Built-in engines, registered through entry points exactly like a third-party plugin.

* ``local`` (:class:`~workbench_engines.local.LocalEngine`): offline, deterministic, procedural;
* ``gemini`` (:class:`~workbench_engines.gemini.GeminiEngine`): Gemini image models' ``generateContent``;
* ``openai`` (:class:`~workbench_engines.openai.OpenAIEngine`): GPT Image 2.x edits/generations, each
  endpoint sent only the parameters it defines (sizes in :mod:`~workbench_engines.openai_sizes`);
* ``comfyui`` (:class:`~workbench_engines.comfyui.ComfyUIEngine`): a self-hosted ComfyUI workflow.

HTTP engines do exactly one provider request per image batch and no retries (the runner retries);
status codes and httpx errors become :mod:`workbench.errors` connector errors in one place,
:mod:`workbench.http`.

Direct use (the runner normally does this, recording every call in the ledger)::

    import asyncio
    from workbench.plugins import load
    from workbench.plugins.engine import EngineConfig, EngineRequest, ReferenceImage

    Local = load("engine", "local")
    ref = ReferenceImage(sha256=digest, data=png_bytes, mime="image/png")
    result = asyncio.run(Local(EngineConfig("local")).generate(
        EngineRequest(prompt="mug on a marble counter, warm, in navy", references=(ref,), aspect="4:5", n=4)))
    result.images[0].data, result.usage.model_version, result.usage.raw["variations"]

HTTP engines take ``EngineConfig("gemini", {"base_url": ..., "timeout_s": 60}, {"per_image": 0.039})`` and
an optional ``httpx.AsyncClient``; keys (``GEMINI_API_KEY`` / ``OPENAI_API_KEY``) are looked up like every
plugin's: ``EngineConfig(..., secrets={...})``, then ``credentials.toml``, then the environment.
"""

__all__: list[str] = []
