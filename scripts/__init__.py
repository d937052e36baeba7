"""Entry points: the `zwgk` admin CLI. Thin: parse, call the Workflow API, print."""

__distribution__ = "zwgk-workflow"  # workflow.names checks this line


def main() -> int:
    """The `zwgk` command: the engine's name check comes first, so a clash is one line, not a traceback."""
    import sys

    try:
        import workflow  # noqa: F401  (checks the top-level names, workflow.names)
    except ImportError as e:  # a name clash, or a dependency missing from this environment
        print(f"zwgk: {e}", file=sys.stderr)
        return 2
    from scripts.zwgk import main as run

    return run()
