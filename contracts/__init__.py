"""The published language of salesflow: the only thing the services know about each other.

Deliberately imports nothing: ``contracts.money`` is imported by the services' pure domain
modules, which may depend on the standard library only, and importing a submodule runs this file.
Import from the submodules (``contracts.envelope``, ``contracts.leads``, ...) instead.
"""
