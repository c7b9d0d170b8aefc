"""Tests of bot/channels/telegram/text.py (splitting replies at Telegram's limit)."""

from __future__ import annotations

from bot.channels.telegram.text import TELEGRAM_MAX_LENGTH, split_message, utf16_length


def test_short_text_is_one_piece_and_blank_is_none() -> None:
    assert split_message("Bonjour !") == ["Bonjour !"]
    assert split_message("  \n ") == []


def test_paragraph_boundary_is_preferred() -> None:
    text = "a" * 60 + "\n\n" + "b b. " * 10
    assert split_message(text, limit=80) == ["a" * 60, ("b b. " * 10).strip()]


def test_sentence_boundary_when_no_paragraph() -> None:
    text = "Une phrase assez longue. " * 3 + "Fin"
    pieces = split_message(text, limit=60)
    assert pieces[0].endswith(".")
    assert all(len(p) <= 60 for p in pieces)
    assert " ".join(pieces) == text.strip()


def test_word_boundary_then_hard_cut() -> None:
    assert split_message("mot " * 30, limit=50)[0] == ("mot " * 12).strip()
    assert split_message("x" * 120, limit=50) == ["x" * 50, "x" * 50, "x" * 20]


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    pieces = split_message(text)
    assert len(pieces) == 2
    assert all(utf16_length(p) <= TELEGRAM_MAX_LENGTH for p in pieces)
    assert "".join(pieces) == text
