"""Reports: JSON, terminal summaries and xlsx workbooks.

This package is the only place that writes workbooks (XlsxWriter, through
:mod:`optimizer.report.xlsx`); openpyxl is only used to read them.
"""
