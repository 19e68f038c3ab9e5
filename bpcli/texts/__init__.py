"""Texts that teach, in each language bpcli speaks: one module per language.

A language module has one dict, MESSAGES, from a key to a str.format template. English
(en.py) has every key; another language may leave keys out, and those fall back to English.
Adding a language is adding one file here and its name to LANGUAGES.
"""

from __future__ import annotations

import importlib

LANGUAGES = ("en", "zh")


class Translator:
    """tr(key, **fields) -> the text in this language."""

    def __init__(self, language: str = "en") -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}: the languages are {', '.join(LANGUAGES)}")
        self.language = language
        english = importlib.import_module("bpcli.texts.en").MESSAGES
        own = importlib.import_module(f"bpcli.texts.{language}").MESSAGES
        self.messages: dict[str, str] = {**english, **own}

    def __call__(self, key: str, **fields: object) -> str:
        return self.messages[key].format(**fields)
