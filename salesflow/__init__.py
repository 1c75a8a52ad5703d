"""The operator's entry point (`salesflow` command): workers, migrations, topics, tools.

The one place allowed to import every service: it picks which composition root to run.
"""
