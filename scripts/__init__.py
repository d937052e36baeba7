"""Entry points: the `zwgk` admin CLI. Thin: parse, call the Workflow API, print."""
