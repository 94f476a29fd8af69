"""What the LangChain and LlamaIndex integrations share."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

import ragd
from ragd import _ragd


def open_knowledge_base(knowledge_base: Any, engine: ragd.Engine | None) -> ragd.KnowledgeBase:
    """A KnowledgeBase given as one, or by name (opened, created when missing)."""
    if isinstance(knowledge_base, ragd.KnowledgeBase):
        return knowledge_base
    if not knowledge_base:
        raise ragd.InvalidArgumentError("name the knowledge base: knowledge_base='name' (or a ragd.KnowledgeBase)")
    return (engine or ragd.Engine()).open(knowledge_base)


def scalar_metadata(meta: Mapping[str, Any], skip: tuple[str, ...] = ()) -> dict[str, str]:
    """The entries of a framework's metadata that ragd can keep as metadata
    of their own (filterable): scalars under valid keys, as text."""
    out = {}
    for k, v in meta.items():
        if k in skip or v is None or isinstance(v, (dict, list, tuple)):
            continue
        value = ("true" if v else "false") if isinstance(v, bool) else str(v)
        try:
            _ragd.check_metadata(str(k), value)
        except ragd.InvalidArgumentError:
            continue  # kept only in the framework's own JSON
        out[str(k)] = value
    return out


def document_text(detail: Any) -> str:
    """A document's text from its chunks, joined where they overlap (chunks
    share code-point offsets into the text)."""
    text, end = "", -1
    for c in detail.chunks:
        if end < 0:
            text = c.text
        elif c.char_start >= end:
            text += "\n\n" + c.text
        elif c.char_end > end:
            text += c.text[end - c.char_start:]
        end = max(end, c.char_end)
    return text


def existing_documents(kb: ragd.KnowledgeBase, ids: Iterable[str]) -> Iterator[tuple[str, Any, str]]:
    """(id, detail, text) of each of ids that is in the knowledge base, in the given order."""
    for i in ids:
        try:
            d = kb.document(i)
        except ragd.NotFoundError:
            continue
        yield i, d, document_text(d)
