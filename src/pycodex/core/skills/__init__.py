"""Skills: folders with a ``SKILL.md`` the model reads on demand.

Entry points for the rest of pycodex:

- :func:`pycodex.core.skills.catalog.load_for_cwd` — the skills (and their errors) visible
  from a working directory, enabled flags applied, cached until something changes;
- :func:`pycodex.core.skills.render.skills_instructions` — the ``<skills_instructions>``
  text of a turn's context;
- :func:`pycodex.core.skills.render.skill_input_items` — the messages that carry explicitly
  invoked skills (``skill`` user inputs) to the model.
"""
