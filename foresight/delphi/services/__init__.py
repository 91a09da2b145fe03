"""Writes of the Delphi app, one module per noun: studies, rounds, panel, responses, aggregation."""
