"""Writes of the priorities app, one module per noun: scoring runs (``runs``), editions (``editions``) and
the scripted publisher that scores, decides and publishes an edition in one step (``publishing``)."""
