"""Plates read over HTTP (``anpr serve``) and a page where people settle the doubtful reads.

One process: uvicorn's event loop takes requests, a queue gathers the images of concurrent
requests into batches, and one thread runs the same :class:`~anpr.inference.PlateReader` as
``anpr predict`` over each batch. Layout: ``settings`` (every limit, one place), ``images``
(bytes to pixels under those limits), ``uploads`` (request bodies to image bytes), ``batching``
(the queue), ``engine`` (the reader behind the queue), ``review`` (the reviewed-crop dataset),
``metrics``, ``app`` (the routes), ``protocol`` (the slow-header deadline), ``server`` (start
and graceful stop), ``process`` (a server in a subprocess, for tests and the load test),
``loadtest``; ``page/`` is the review page. Reference: docs/serve.md.
"""
