"""Built-in engines, registered through entry points exactly like a third-party plugin.

* ``local`` (:class:`~workbench_engines.local.LocalEngine`): offline, deterministic, procedural;
* ``gemini`` (:class:`~workbench_engines.gemini.GeminiEngine`): Gemini 2.5 Flash Image ``generateContent``;
* ``openai`` (:class:`~workbench_engines.openai.OpenAIEngine`): ``gpt-image-1`` edits/generations;
* ``comfyui`` (:class:`~workbench_engines.comfyui.ComfyUIEngine`): a self-hosted ComfyUI workflow.

HTTP engines do exactly one provider request per image batch and no retries (the runner retries);
status codes and httpx errors become :mod:`workbench.errors` connector errors in one place,
:mod:`workbench_engines._http`.
"""

__all__: list[str] = []
