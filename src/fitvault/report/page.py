"""The page around the sections: one stylesheet (light and dark), a navigation bar, and one
small inline script (``interact.js``: zoom and hover on the charts over time).

The Content-Security-Policy forbids every fetch, so the file cannot reach the network even if a
future section slipped in a URL, and admits only the one script whose SHA-256 it names. Charts
are inline SVG and need nothing else: with scripts off they are the static figures.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources

from fitvault.report.svg import STAGE_COLOURS, esc

SCRIPT = resources.files("fitvault.report").joinpath("interact.js").read_text(encoding="utf-8")

# Okabe–Ito, the colour-blind-safe qualitative palette; stages keep the figures' colours.
CSS = """
:root{--bg:#fff;--fg:#1d2329;--muted:#5b6670;--grid:#d9dee3;--card:#f4f6f8;
--hr:#d55e00;--hrv:#cc79a7;--steps:#0072b2;--asleep:#0072b2;--inbed:#9aa3ad;--bed:#0072b2;
--wake-t:#e69f00;--spo2:#009e73;--br:#56b4e9;--temp:#d55e00;--vo2:#009e73;--weight:#cc79a7;
--z1:#f0e442;--z2:#e69f00;--z3:#d55e00;--z4:#cc79a7;--sleep:#56b4e9;--workout:#009e73;
--deep:DEEP;--light:LIGHT;--rem:REM;--wake:WAKE;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#15191d;--fg:#e6e9ec;--muted:#a3adb7;
--grid:#343b42;--card:#1f252b;--inbed:#7d8791}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif}
header,main{max-width:980px;margin:0 auto;padding:0 14px}
header h1{font-size:1.5rem;margin:18px 0 4px}
nav{position:sticky;top:0;background:var(--bg);border-bottom:1px solid var(--grid);z-index:1}
nav ul{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;margin:0 auto;max-width:980px;
padding:8px 14px}
nav a{color:var(--fg)}
section{padding-top:8px}
h2{border-bottom:2px solid var(--grid);padding-bottom:4px;margin-top:28px}
figure{margin:14px 0 22px;content-visibility:auto;contain-intrinsic-size:auto 340px}
figcaption{font-weight:600;margin-bottom:4px}
svg.chart{display:block;width:100%;height:auto;max-width:100%}
svg text{fill:var(--fg);font-size:12px}
svg .tick{fill:var(--muted);font-size:11px}
svg .label{font-size:12px}
svg .grid{stroke:var(--grid);stroke-width:.6}
svg .axis{stroke:var(--muted);stroke-width:1;fill:none}
svg .ln{fill:none;stroke-width:1.2;stroke-linejoin:round}
svg .w2{stroke-width:2.2}svg .w3{stroke-width:1.6;stroke-dasharray:6 3}
svg .thin{stroke-width:.7;opacity:.55}svg .faint{opacity:.55}svg .dash{stroke-dasharray:5 4}
svg .hover{opacity:0}svg .hover:hover{opacity:1}
svg .band{opacity:.28}
svg .dots{fill:none;stroke-linecap:round}svg .dots.f-asleep{stroke:var(--asleep)}
svg .day{stroke:none}svg .nodata{fill:none;stroke:var(--muted);stroke-width:.8}
.c-hr{stroke:var(--hr);fill:var(--hr)}.c-hrv{stroke:var(--hrv);fill:var(--hrv)}
.c-steps{stroke:var(--steps);fill:var(--steps)}.c-asleep{stroke:var(--asleep);fill:var(--asleep)}
.c-bed{stroke:var(--bed);fill:var(--bed)}.c-wake{stroke:var(--wake-t);fill:var(--wake-t)}
.c-spo2{stroke:var(--spo2);fill:var(--spo2)}.c-br{stroke:var(--br);fill:var(--br)}
.c-temp{stroke:var(--temp);fill:var(--temp)}.c-vo2{stroke:var(--vo2);fill:var(--vo2)}
.c-weight{stroke:var(--weight);fill:var(--weight)}.c-ink{stroke:var(--fg);fill:var(--fg)}
.f-steps{fill:var(--steps)}.f-asleep{fill:var(--asleep)}.f-inbed{fill:var(--inbed)}
.f-deep{fill:var(--deep)}.f-light{fill:var(--light)}.f-rem{fill:var(--rem)}
.f-wake{fill:var(--wake)}.f-z1{fill:var(--z1)}.f-z2{fill:var(--z2)}.f-z3{fill:var(--z3)}
.f-z4{fill:var(--z4)}.f-sleep{fill:var(--sleep)}.f-workout{fill:var(--workout)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:10px}
.card{background:var(--card);border-radius:8px;padding:10px 12px}
.card .k{color:var(--muted);font-size:.85rem}.card .v{font-size:1.6rem;font-weight:650}
.card .sub{color:var(--muted);font-size:.8rem}
.trend{font-size:.85rem}.trend.up{color:#009e73}.trend.down{color:#d55e00}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.88rem;margin:6px 0 16px}
th,td{padding:4px 8px;border-bottom:1px solid var(--grid);text-align:left;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:var(--muted);font-size:.88rem}
dt{font-weight:600;margin-top:8px}dd{margin-left:14px;color:var(--muted)}
@media (max-width:560px){svg text,svg .label{font-size:19px}svg .tick{font-size:17px}
body{font-size:14px}}
footer{max-width:980px;margin:30px auto;padding:0 14px;color:var(--muted);font-size:.8rem}
svg.zoom{touch-action:pan-y;cursor:crosshair;user-select:none;-webkit-user-select:none}
svg .zg path{vector-effect:non-scaling-stroke}
svg .sel{fill:var(--fg);opacity:.12}svg circle.on{opacity:1}svg rect.on{opacity:.75}
svg .guide{stroke:var(--muted);stroke-width:1;fill:none}
.tip{position:fixed;z-index:5;pointer-events:none;background:var(--card);color:var(--fg);
border:1px solid var(--grid);border-radius:6px;padding:3px 8px;font-size:.85rem;
white-space:nowrap;box-shadow:0 2px 6px rgba(0,0,0,.2)}
"""
for _stage, _colour in STAGE_COLOURS.items():
    CSS = CSS.replace(_stage.upper() + ";", _colour + ";", 1)

_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{_HASH}'"


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]], footer: str) -> str:
    """``sections`` are (id, heading, html); empty html leaves the section and its link out."""
    shown = [(sid, head, body) for sid, head, body in sections if body]
    links = "".join(f'<li><a href="#{sid}">{esc(head)}</a></li>' for sid, head, _ in shown)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        f"<nav><ul>{links}</ul></nav><main>"
        + "".join(body for _, _, body in shown)
        + f"</main><footer>{esc(footer)}</footer><script>{SCRIPT}</script></body></html>\n"
    )
