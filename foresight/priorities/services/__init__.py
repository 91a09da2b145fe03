"""Writes of the priorities app, one module per noun: scoring runs (``runs``), editions (``editions``), the
scripted publisher that scores, decides and publishes an edition in one step (``publishing``), and this
app's part of a Delphi round package (``package``)."""
