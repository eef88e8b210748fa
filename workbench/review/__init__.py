"""Review: commit, history, diff, review states, comments, renditions and checks; the
:class:`~workbench.review.service.Review` service (``wb.review``)."""
