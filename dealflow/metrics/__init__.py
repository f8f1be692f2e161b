"""Pipeline metrics per company and for the portfolio, computed in SQL over the cache.

One module per group of formulas (closed deals, open pipeline, funnel, time in stage, trends), each
with `fetch` (a fixed number of GROUP BY queries over every company of the scope at once, rows
keyed by integration) and `compute` (the figures of any set of integrations from those rows), so a
page costs the same number of queries whatever the number of deals or companies. `report.py`
assembles them; every formula is written out for the pages in templates/dealflow/metrics/.
"""
