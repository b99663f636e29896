"""JSON text assembled from literal pieces and unresolved CloudFormation references, shared by the
rule pack (``rules.pipeline_definitions``) and the review report (``review.jsondiff``)."""

from __future__ import annotations

from typing import Any, Callable, Iterable


def join_json(pieces: Iterable[Any], token_text: Callable[[Any, bool], str | None]) -> str:
    """The pieces joined, each reference replaced by ``token_text(piece, in_string)``: whether it
    stands inside a JSON string literal decides how it is written (a number or boolean CDK rendered
    unquoted must become a quoted string for the text to parse). ``token_text`` returns None for a
    literal piece, which is written as it is and tracked for string state."""
    out: list[str] = []
    in_string = escaped = False
    for piece in pieces:
        text = token_text(piece, in_string)
        if text is not None:
            out.append(text)
            continue
        for char in piece:
            if escaped:
                escaped = False
            elif in_string and char == "\\":
                escaped = True
            elif char == '"':
                in_string = not in_string
        out.append(piece)
    return "".join(out)
