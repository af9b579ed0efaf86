"""Lifecycle hooks: commands configured in ``hooks.json`` or ``[hooks]`` tables that run at
points of a thread's life (session start, prompt submit, before/after tools, stop...).

Entry points:

- :func:`pycodex.core.hooks.config.discover` — the handlers (with keys, hashes and trust)
  and warnings for a working directory;
- :func:`pycodex.core.hooks.runner.run_hooks` — run the trusted handlers of one event,
  announcing each run through ``emit`` and returning what the engine must act on.
"""
