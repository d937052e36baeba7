"""Draw a pipeline as a Mermaid or Graphviz (dot) diagram."""

from __future__ import annotations

from states.pipeline import Pipeline


def _edge_label(p: Pipeline, action_id: str, zh: str, role: str) -> str:
    return f"{action_id} {zh} / {p.role(role).zh}"


def mermaid(p: Pipeline) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {p.initial}"]
    for s in p.states:
        lines.append(f"    {s.id} : {s.id} {s.zh}")
    for a in p.actions:
        lines.append(f"    {a.source} --> {a.to or a.source} : {_edge_label(p, a.id, a.zh, a.role)}")
    return "\n".join(lines) + "\n"


def dot(p: Pipeline) -> str:
    lines = [f'digraph "{p.name}" {{', "    rankdir=LR;", '    node [shape=box, style=rounded];']
    for s in p.states:
        lines.append(f'    {s.id} [label="{s.id}\\n{s.zh}"];')
    for a in p.actions:
        style = ", style=dashed" if a.to is None else ""
        lines.append(f'    {a.source} -> {a.to or a.source} [label="{_edge_label(p, a.id, a.zh, a.role)}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
