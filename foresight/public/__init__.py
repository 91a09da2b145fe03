"""The public site: the pages and API that compose the catalog, scenarios and priorities.

The top layer (core ← catalog ← scenarios ← delphi ← priorities ← public): the home page shows directions,
scenarios and the latest edition; a topic's page and API entry show its scenarios and its history across
editions; the topic list filters by scenario setting. Each app offers its own reads (selectors); this
package puts them together, so no app below has to reach to its right.
"""
