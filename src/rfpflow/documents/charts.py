"""SVG charts for the documents: scores by dimension, dimension shares, trial KPIs.

Drawn as plain SVG text (no JavaScript, no external fonts or files), so they
print the same in every browser and in PDF.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from rfpflow.documents.labels import label_for
from rfpflow.documents.view import ranked, vendor_names
from rfpflow.formatting import format_number, format_percent, round_half_up

# --------------------------------------------------------------------------
# SVG charts
# --------------------------------------------------------------------------

_W = 680
_FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',Arial,sans-serif"
_PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6", "#bf9000", "#7f7f7f")
_MET, _MISSED = "#548235", "#c00000"


def _n(x: float) -> str:
    """A coordinate or value for SVG: at most 2 decimals, no float noise, no ``-0``."""
    text = f"{round_half_up(x, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text_width(text: str, size: float) -> float:
    return sum(size * (1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.58) for ch in text)


def _fit(text: str, width: float, size: float = 12) -> str:
    if _text_width(text, size) <= width:
        return text
    out = ""
    for ch in text:
        if _text_width(out + ch + "…", size) > width:
            break
        out += ch
    return out + "…"


def _nice_max(value: float) -> tuple[float, float]:
    """An axis maximum >= value and a tick step giving 4-5 ticks."""
    value = max(value, 1e-9)
    magnitude = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    for step_factor in (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0):
        step = magnitude * step_factor
        if value / step <= 5:
            ticks = -(-value // step)
            return float(ticks * step), float(step)
    return float(value), float(value)


class _Svg:
    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []

    def text(self, x: float, y: float, text: str, *, size: float = 12, anchor: str = "start", weight: str = "",
             fill: str = "#1a1a1a", full: str | None = None) -> None:
        bold = f' font-weight="{weight}"' if weight else ""
        tip = f"<title>{escape(full)}</title>" if full is not None and full != text else ""
        self.parts.append(f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" '
                          f'fill="{fill}"{bold}>{tip}{escape(text)}</text>')

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str | None = None) -> None:
        inner = f"<title>{escape(tip)}</title>" if tip else ""
        self.parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0.0))}" height="{_n(h)}" '
                          f'fill="{fill}">{inner}</rect>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#bbbbbb", dash: str = "",
             width: float = 1) -> None:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
                          f'stroke-width="{_n(width)}"{dashed}></line>')

    def render(self, height: float) -> Markup:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_n(height)}" '
                f'viewBox="0 0 {_W} {_n(height)}" style="max-width:100%;height:auto" role="img" '
                f'font-family="{_FONT}"><title>{escape(self.title)}</title>')
        return Markup(head + "".join(self.parts) + "</svg>")


def _no_data(title: str, lang: str) -> Markup:
    svg = _Svg(title)
    svg.text(10, 24, label_for(lang, "chart.nodata"))
    return svg.render(40)


def _legend(svg: _Svg, y: float, items: Sequence[tuple[str, str]], *, dashed: set[str] | None = None) -> float:
    """Colour keys left to right, wrapping; returns the y below the legend."""
    x = 10.0
    for label, colour in items:
        width = 18 + _text_width(label, 11) + 18
        if x + width > _W - 10 and x > 10:
            x, y = 10.0, y + 18
        if dashed and label in dashed:
            svg.line(x, y - 4, x + 12, y - 4, stroke=colour, dash="4 3", width=2)
        else:
            svg.rect(x, y - 10, 12, 12, colour)
        svg.text(x + 18, y, label, size=11)
        x += width
    return y + 10


def _axis(svg: _Svg, left: float, width: float, top: float, bottom: float, axis_max: float, step: float,
          fmt: Callable[[float], str]) -> None:
    ticks = round(axis_max / step) if step else 0
    for i in range(ticks + 1):
        value = step * i
        x = left + width * value / axis_max
        svg.line(x, top, x, bottom, stroke="#dddddd")
        svg.text(x, bottom + 13, fmt(value), size=10, anchor="middle", fill="#555555")


def score_chart_svg(rows: Sequence[tuple[str, Mapping[str, float], float]], dimensions: Sequence[tuple[str, str]],
                    *, max_points: float = 100.0, lang: str = "en") -> Markup:
    """Stacked horizontal bars: one per vendor, one segment per dimension (weighted points).

    ``rows`` is ``(vendor label, {dimension id: points}, total)`` in display
    order; ``dimensions`` is ``(id, name)`` in legend order.
    """
    title = label_for(lang, "chart.scores")
    if not rows:
        return _no_data(title, lang)
    left, right, row_h, bar_h, top = 180.0, 56.0, 26.0, 16.0, 12.0
    plot = _W - left - right
    largest = max([max_points, *(float(t) for _, _, t in rows if isinstance(t, int | float))])
    axis_max, step = _nice_max(largest)
    svg = _Svg(title)
    bottom = top + row_h * len(rows)
    _axis(svg, left, plot, top, bottom, axis_max, step, lambda v: format_number(v, 0))
    colours = {dim: _PALETTE[i % len(_PALETTE)] for i, (dim, _) in enumerate(dimensions)}
    dim_names = dict(dimensions)
    for i, (label, parts, total) in enumerate(rows):
        y = top + row_h * i + (row_h - bar_h) / 2
        svg.text(left - 8, y + bar_h - 4, _fit(label, left - 16), anchor="end", full=label)
        x = left
        for dim, _ in dimensions:
            value = max(float(parts.get(dim) or 0.0), 0.0)
            width = plot * value / axis_max
            svg.rect(x, y, width, bar_h, colours[dim],
                     tip=f"{label} · {dim_names[dim]}: {format_number(value, 1)}")
            x += width
        svg.text(x + 6, y + bar_h - 4, format_number(total, 1), size=11, weight="bold")
    end = _legend(svg, bottom + 36, [(name, colours[dim]) for dim, name in dimensions])
    return svg.render(end + 6)


def dimension_chart_svg(dimensions: Sequence[tuple[str, str, float | None]],
                        rows: Sequence[tuple[str, Mapping[str, float]]], *, lang: str = "en") -> Markup:
    """Small multiples: per dimension, each vendor's points as a share of the dimension's weight.

    ``dimensions`` is ``(id, name, weight)``; ``rows`` is ``(vendor label,
    {dimension id: points})`` in display order.
    """
    title = label_for(lang, "chart.dimensions")
    usable = [(d, name, float(w)) for d, name, w in dimensions if isinstance(w, int | float) and w > 0]
    if not rows or not usable:
        return _no_data(title, lang)
    left, right, row_h, bar_h = 180.0, 70.0, 20.0, 12.0
    plot = _W - left - right
    svg = _Svg(title)
    y = 4.0
    for index, (dim, name, weight) in enumerate(usable):
        colour = _PALETTE[index % len(_PALETTE)]
        heading = f"{name} ({label_for(lang, 'chart.weight')} {format_number(weight, 1)})"
        svg.text(10, y + 14, _fit(heading, _W - 20, 12), weight="bold", full=heading)
        top = y + 22
        bottom = top + row_h * len(rows)
        _axis(svg, left, plot, top, bottom, 1.0, 0.25, lambda v: format_percent(v, 0))
        for i, (label, parts) in enumerate(rows):
            share = max(float(parts.get(dim) or 0.0), 0.0) / weight
            by = top + row_h * i + (row_h - bar_h) / 2
            svg.text(left - 8, by + bar_h - 2, _fit(label, left - 16, 11), size=11, anchor="end", full=label)
            svg.rect(left, by, plot * min(share, 1.0), bar_h, colour,
                     tip=f"{label} · {name}: {format_number(parts.get(dim), 1)} / {format_number(weight, 1)}")
            svg.text(left + plot * min(share, 1.0) + 6, by + bar_h - 2, format_percent(share, 1), size=10)
        y = bottom + 26
    return svg.render(y)


def kpi_chart_svg(kpis: Sequence[tuple[str, str, str, float | None, str]],
                  rows: Sequence[tuple[str, Mapping[str, tuple[float | None, bool | None]]]], *,
                  lang: str = "en") -> Markup:
    """Trial KPI results against target: one panel per KPI, one bar per vendor, a dashed target line.

    ``kpis`` is ``(id, name, unit, target, direction)``; ``rows`` is ``(vendor
    label, {kpi id: (value, met)})``. Bars are green when the target was met.
    """
    title = label_for(lang, "chart.kpis")
    if not rows or not kpis:
        return _no_data(title, lang)
    left, right, row_h, bar_h = 180.0, 80.0, 20.0, 12.0
    plot = _W - left - right
    svg = _Svg(title)
    y = 4.0
    for kid, name, unit, target, direction in kpis:
        values = [v for _, parts in rows for v in [parts.get(kid, (None, None))[0]] if isinstance(v, int | float)]
        largest = max([*values, float(target) if isinstance(target, int | float) else 0.0, 0.0])
        axis_max, step = _nice_max(largest * 1.05 if largest > 0 else 1.0)
        target_text = "" if target is None else f"{format_number(target, 1)} {unit}".strip()
        heading = f"{name} ({label_for(lang, 'chart.target')} {target_text}; {label_for(lang, direction)})"
        svg.text(10, y + 14, _fit(heading, _W - 20, 12), weight="bold", full=heading)
        top = y + 22
        bottom = top + row_h * len(rows)
        tick_label = functools.partial(format_number, digits=0 if step >= 1 else 2)
        _axis(svg, left, plot, top, bottom, axis_max, step, tick_label)
        for i, (label, parts) in enumerate(rows):
            value, met = parts.get(kid, (None, None))
            by = top + row_h * i + (row_h - bar_h) / 2
            svg.text(left - 8, by + bar_h - 2, _fit(label, left - 16, 11), size=11, anchor="end", full=label)
            if not isinstance(value, int | float):
                svg.text(left + 4, by + bar_h - 2, label_for(lang, "none"), size=10)
                continue
            width = plot * max(float(value), 0.0) / axis_max
            state = label_for(lang, "met" if met else "missed")
            svg.rect(left, by, width, bar_h, _MET if met else _MISSED,
                     tip=f"{label} · {name}: {format_number(value, 1)} {unit} ({state})")
            svg.text(left + width + 6, by + bar_h - 2, f"{format_number(value, 1)} {unit}".strip(), size=10)
        if isinstance(target, int | float):
            tx = left + plot * max(float(target), 0.0) / axis_max
            svg.line(tx, top - 4, tx, bottom, stroke="#1a1a1a", dash="4 3", width=1.5)
        y = bottom + 26
    end = _legend(svg, y + 4, [(label_for(lang, "chart.met"), _MET), (label_for(lang, "chart.missed"), _MISSED),
                               (label_for(lang, "chart.target"), "#1a1a1a")], dashed={label_for(lang, "chart.target")})
    return svg.render(end + 6)


def _dimension_list(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    dims = list(view["rfp"]["dimensions"])
    known = {str(d["id"]) for d in dims}
    extra = sorted({str(k) for t in view["evaluation"]["totals"] for k in t["dimensions"]} - known)
    return dims + [{"id": k, "name": k, "weight": None, "children": []} for k in extra]


def score_chart(view: Mapping[str, Any]) -> Markup:
    lang = str(view["rfp"]["language"])
    dims = _dimension_list(view)
    rows = [(str(t["name"]), {str(k): float(v) for k, v in t["dimensions"].items() if isinstance(v, int | float)},
             t.get("total") or 0.0) for t in ranked(view)]
    weights = [float(d["weight"]) for d in dims if isinstance(d.get("weight"), int | float)]
    return score_chart_svg(rows, [(str(d["id"]), str(d["name"])) for d in dims],
                           max_points=sum(weights) or 100.0, lang=lang)


def dimension_chart(view: Mapping[str, Any]) -> Markup:
    lang = str(view["rfp"]["language"])
    dims = _dimension_list(view)
    rows = [(str(t["name"]), {str(k): float(v) for k, v in t["dimensions"].items() if isinstance(v, int | float)})
            for t in ranked(view)]
    return dimension_chart_svg([(str(d["id"]), str(d["name"]), d.get("weight")) for d in dims], rows, lang=lang)


def kpi_chart(view: Mapping[str, Any]) -> Markup:
    lang = str(view["rfp"]["language"])
    names = vendor_names(view)
    order = {str(t["vendor"]): i for i, t in enumerate(ranked(view))}
    results = sorted(view["trial"]["results"],
                     key=lambda r: (order.get(str(r.get("vendor")), len(order)), str(r.get("vendor"))))
    kpis: list[tuple[str, str, str, float | None, str]] = [
        (str(k["id"]), str(k["name"]), str(k["unit"] or ""),
         float(k["target"]) if isinstance(k.get("target"), int | float) else None, str(k["direction"]))
        for k in view["rfp"]["kpis"]]
    known = {k[0] for k in kpis}
    for result in results:  # KPIs measured but not in the definition (a plugin's)
        for k in result["kpis"]:
            if str(k.get("kpi")) not in known:
                known.add(str(k.get("kpi")))
                target = k.get("target")
                kpis.append((str(k.get("kpi")), str(k.get("name") or k.get("kpi")), str(k.get("unit") or ""),
                             float(target) if isinstance(target, int | float) else None, "higher"))
    rows = [(names.get(str(r["vendor"]), str(r["vendor"])),
             {str(k.get("kpi")): (k.get("value"), k.get("met")) for k in r["kpis"]}) for r in results]
    return kpi_chart_svg(kpis, rows, lang=lang)


