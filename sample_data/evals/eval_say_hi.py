"""Braintrust's "Say Hi Bot" eval, as its docs write it, with one change: the import line.

    bt-tui eval sample_data/evals/eval_say_hi.py      (or: python sample_data/evals/eval_say_hi.py)

prints Braintrust's summary::

    77.78% 'Levenshtein' score
    50.00% 'ExactMatch'  score

Change the task (say "Hello " for Bar) and run it again: the summary compares with this run,
row by row (``(+x.xx%) ... (1 improvements, 0 regressions)``).
"""

from autoevals import ExactMatch, Levenshtein

from bt_tui import Eval  # was: from braintrust import Eval

Eval(
    "Say Hi Bot",  # the project
    data=lambda: [
        {"input": "Foo", "expected": "Hi Foo"},
        {"input": "Bar", "expected": "Hello Bar"},
    ],  # replace with your eval dataset
    task=lambda input: "Hi " + input,  # replace with your LLM call
    scores=[Levenshtein, ExactMatch],
)
