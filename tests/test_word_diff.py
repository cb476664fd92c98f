"""tui.widgets.word_diff: word-level highlighting of two texts or JSON values (pure functions)."""

from __future__ import annotations

import random

from tui.widgets.word_diff import ADDED, REMOVED, changed_spans, json_text, tokens, value_diff, word_diff


def test_tokens_round_trip_words_blanks_and_punctuation():
    text = "Hello,  wörld!\n\tok... 3.5"
    assert "".join(tokens(text)) == text
    assert tokens("a, b") == ["a", ",", " ", "b"]


def test_identical_texts_are_plain():
    left, right = word_diff("same words here", "same words here")
    assert left.plain == right.plain == "same words here"
    assert changed_spans(left) == changed_spans(right) == []


def test_one_word_changed_is_the_only_highlight():
    left, right = word_diff("the refund takes 30 days to arrive", "the refund takes 14 days to arrive")
    assert left.plain == "the refund takes 30 days to arrive"
    assert right.plain == "the refund takes 14 days to arrive"
    assert changed_spans(left) == ["30"] and changed_spans(right) == ["14"]
    styles = {str(s.style) for s in left.spans}
    assert str(REMOVED) in styles and "strike" in str(REMOVED) and "red" in str(REMOVED)
    assert {str(s.style) for s in right.spans} == {str(ADDED)} and "green" in str(ADDED)


def test_insertion_at_start_and_end():
    left, right = word_diff("world", "hello world")
    assert changed_spans(left) == [] and changed_spans(right) == ["hello "]
    left, right = word_diff("hello", "hello world!")
    assert changed_spans(left) == [] and changed_spans(right) == [" world!"]
    left, right = word_diff("hello world", "")
    assert changed_spans(left) == ["hello world"] and right.plain == ""


def test_unicode_words():
    left, right = word_diff("Grüße aus Köln 🎉", "Grüße aus München 🎉")
    assert changed_spans(left) == ["Köln"] and changed_spans(right) == ["München"]
    left, right = word_diff("日本語 テキスト", "日本語 文章")
    assert changed_spans(left) == ["テキスト"] and changed_spans(right) == ["文章"]


def test_whitespace_only_change_is_shown():
    left, right = word_diff("two  spaces", "two spaces")
    assert changed_spans(left) == ["  "] and changed_spans(right) == [" "]
    # a blank cannot show in a colour alone: it gets a background
    assert all(s.style.bgcolor is not None for s in left.spans if left.plain[s.start:s.end].isspace())


def test_multiline_text_diffs_lines_then_words():
    a = "line one\nline two stays\nline three\n"
    b = "line one\nline two moves\nline three\nline four\n"
    left, right = word_diff(a, b)
    assert left.plain == a and right.plain == b
    assert changed_spans(left) == ["stays"]
    assert changed_spans(right) == ["moves", "line four\n"]


def test_value_diff_strings_word_by_word_and_json_values_line_then_word():
    left, right = value_diff("ask for a refund", "ask for an exchange")
    assert changed_spans(left) == ["a refund"] and changed_spans(right) == ["an exchange"]
    a = {"question": "where is my order", "k": 1}
    b = {"question": "where is my parcel", "k": 1}
    left, right = value_diff(a, b)
    assert left.plain == json_text(a) and '"k": 1' in right.plain
    assert changed_spans(left) == ["order"] and changed_spans(right) == ["parcel"]
    left, right = value_diff(None, {"a": 1})  # a side that is missing is JSON null
    assert left.plain == "null" and changed_spans(right) == [right.plain]
    left, right = value_diff("text", {"text": 1})  # a string against JSON: quoted
    assert left.plain == '"text"'


def test_huge_inputs_return():
    """Big and adversarial inputs still come back, whole and correct (no timing asserted:
    the caps in the module keep them quick)."""
    rnd = random.Random(7)
    words = [rnd.choice(["a", "b", "c", "refund", "order"]) for _ in range(20000)]
    a = " ".join(words)
    b = " ".join(w if rnd.random() > 0.2 else "zz" for w in words)
    left, right = word_diff(a, b)
    assert left.plain == a and right.plain == b and changed_spans(right)
    lines_a = "\n".join(" ".join(rnd.choice("abc") for _ in range(5)) for _ in range(20000))
    lines_b = lines_a.replace("a b", "b a")
    left, right = word_diff(lines_a, lines_b)
    assert left.plain == lines_a and right.plain == lines_b
    big = [{"id": i, "t": f"text here {i}", "m": {"x": [1, 2]}} for i in range(3000)]
    changed = [dict(d, t=d["t"].replace("here", "there")) if d["id"] % 3 == 0 else d for d in big]
    left, right = value_diff(big, changed)
    assert left.plain == json_text(big) and right.plain == json_text(changed)
    one_line = "x" * 200_000 + " middle " + "y" * 200_000
    left, right = word_diff(one_line, one_line.replace("middle", "centre"))
    assert changed_spans(left) == ["middle"] and changed_spans(right) == ["centre"]
