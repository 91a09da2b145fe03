"""Reads of the priorities app: published editions, their figures and a topic's history for the public
(``editions``), and the staff workbench's fetchers, run table and edition editor (``workbench``)."""
