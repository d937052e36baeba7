"""Entry points: the `zwgk` admin CLI. Thin: parse, call the Workflow API, print."""

__distribution__ = "zwgk-workflow"  # workflow.names checks this line

