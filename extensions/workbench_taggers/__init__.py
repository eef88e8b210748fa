"""Built-in taggers, registered through the ``workbench.taggers`` entry points like any third-party tagger:
``basic`` (colours, background, orientation, sharpness), ``faces`` (OpenCV Haar cascades), ``prompt``
(the recipe variables and engine behind a generated version) and ``gemini_vision`` (object tags through the
Gemini API when ``GEMINI_API_KEY`` is set)."""
