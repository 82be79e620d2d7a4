"""The web desk (``marsad web``): the store's incidents as a map, a timeline and pages, read-only.

Composition root :mod:`desk.web.app`; what a URL asks for, :mod:`desk.web.params`; the
pictures, laid out by pure modules (:mod:`desk.web.geo`, :mod:`desk.web.timeline`,
:mod:`desk.web.evidence`); the words and markup, ``templates/``; the outlines, the CSS and
the one small script, ``static/``. See docs/desk-web.md.
"""
