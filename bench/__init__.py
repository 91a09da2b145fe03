"""The product's own benchmark (SPEC §9): ``python -m bench.run`` or ``make bench``.

Nothing here is imported by the product. ``bench.settings`` extends ``foresight.settings`` with the
baseline views of ``bench.views`` (mounted under ``/bench/`` by ``bench.urls``); every other module
is the harness: data build, processes (Celery worker, gunicorn), load generator, workloads, report.
"""
