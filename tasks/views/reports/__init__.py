"""The report pages (issue 7): the city overview, report cards with print and PDF, and the records behind a figure.

Modules: common (period picker, source, permissions, links, number texts), data (reads
beyond the figures engine), sections (charts and tables shared by pages), overview,
cards, records. The routes are in tasks/report_urls.py (namespace "reports").
"""
