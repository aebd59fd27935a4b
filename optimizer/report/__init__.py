"""Reports: JSON, terminal summaries and xlsx workbooks.

This package is the only place that imports openpyxl.
"""
