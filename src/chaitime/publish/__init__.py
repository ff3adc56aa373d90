"""Publishing: the podcast feed (feed.py), workspace checks (check.py), the static site (site.py)
and its preview server (serve.py). URLs for all of them come from urls.py."""
