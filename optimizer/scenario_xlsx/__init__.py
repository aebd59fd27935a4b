"""Scenarios in Excel: the layout (from the schema), reading (openpyxl, read-only) and writing (XlsxWriter)."""
