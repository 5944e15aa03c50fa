"""The evaluation: generators and baselines measured on the same photographs and seeded holes.

``ce-eval`` (``model.tools.evaluate``) is its command line; the modules, one job each:

- ``run``: one evaluation run, from options to the printed tables, the JSON and the pictures;
- ``sets``: which photographs (folders, lists of paths, seeded subsets);
- ``holes``: the seeded holes, at 128 px and at full resolution;
- ``methods``: who fills them (generators through the server's path, baselines, references);
- ``crops``, ``fullres``: the 128 px and the full-resolution protocols;
- ``scores``: hole-only scores of filled images and their means;
- ``tables``, ``grids``: the Markdown tables and the comparison pictures;
- ``report``: the ``--json`` document;
- ``schema``: the records that document holds, which a release embeds in an export and
  ``GET /api/models`` reads back.

Nothing is imported here: the server reads evaluation records without loading the evaluation.
"""
