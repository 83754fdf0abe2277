"""``main``: parse, build the request, run the command; bad input is one line and exit 2.

Bad input (scenario files or arguments) prints one line on stderr and exits with code 2;
nothing is written. Ctrl-C exits with 130 after saying what was kept for ``--resume``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from gatesim.cli.arguments import COMMANDS, EXIT_BAD_INPUT, PASSTHROUGH, build_parser
from gatesim.cli.requests import FLAGS, Inputs, invocation
from gatesim.core.errors import ScenarioError, UsageError

EXIT_INTERRUPTED = 130


#: Arrow's allocator in the command line's process and its workers (read when pyarrow is
#: first imported; a user's own setting wins). The C allocator gives back the buffers of
#: each written row group of records, where Arrow's default (mimalloc) keeps them, some
#: 20 MB of a default run's peak. Set by the process entry, not by ``main``, so a Python
#: caller's environment is left alone.
ARROW_POOL = ("ARROW_DEFAULT_MEMORY_POOL", "system")


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in PASSTHROUGH:
        return _passthrough(args_list[0], args_list[1:])
    if args_list and args_list[0] not in COMMANDS and not args_list[0].startswith("-"):
        if not _names_a_scenario(args_list[0]):
            from gatesim.cli.listing import unknown_command

            print(f"error: {unknown_command(args_list[0], COMMANDS)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        args_list.insert(0, "run")  # 'run_sim.py baseline.yaml' means 'run baseline.yaml'
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 0
    from gatesim.cli.commands import dispatch

    try:
        call = invocation(args, args_list)
        with inputs_as_asked(call.inputs):
            return dispatch(call)
    except ScenarioError as exc:
        print(f"error: {attributed(exc, getattr(args, 'scenario', None))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as exc:
        print(f"error: {exc.spelled(FLAGS)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        print(interrupted(getattr(exc, "out", None)), file=sys.stderr)
        return EXIT_INTERRUPTED


def attributed(error: ScenarioError, scenario: object) -> ScenarioError:
    """An error about a scenario field found while simulating (a deadlock, say) carries no
    file: name the command's one scenario file. CLI flags (``--out``) stay unattributed."""
    if error.file is None and isinstance(scenario, (str, Path)) and not error.field.startswith("-"):
        return error.with_file(scenario)
    return error


@contextmanager
def inputs_as_asked(inputs: Inputs) -> Iterator[None]:
    """Load the ``--plugin`` modules, and let scenarios read the ``--allow-path`` folders."""
    from gatesim.scenario.loader import allowed_folders
    from gatesim.stations.plugins import load_plugin

    for plugin in inputs.plugins:
        load_plugin(plugin)
    with allowed_folders(list(inputs.allow_paths)):
        yield


def prepare_process() -> None:
    """What the process entry sets before :func:`main` (a measurement of a whole command
    calls it too): Arrow's allocator, unless the user chose one."""
    os.environ.setdefault(*ARROW_POOL)


def console_main() -> NoReturn:
    """The process entry point (``run_sim.py``, the ``gatesim`` script): :func:`main`, then exit
    with ``os._exit``, skipping the interpreter's object-by-object teardown of the modules and
    results (about a fifth of a second after a large run), which has nothing left to do: every
    ``with`` and ``finally`` has run and every result file is closed by then.

    A normal exit still runs the exit handlers (logging, multiprocessing, temporary folders).
    After Ctrl-C it skips them too: a pool worker terminated while sending a result leaves the
    pool's reader thread waiting for the rest of the message, and an orderly exit would wait
    for that thread forever."""
    prepare_process()
    code = main()
    if code != EXIT_INTERRUPTED:
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


def _names_a_scenario(word: str) -> bool:
    """A first word that is not a command runs as a scenario when it looks like one: a .yaml
    or .yml name, a path with a folder, or an existing file."""
    return word.endswith((".yaml", ".yml")) or "/" in word or os.sep in word or Path(word).exists()


def _passthrough(command: str, argv: list[str]) -> int:
    import importlib

    module_main = importlib.import_module(PASSTHROUGH[command]).main
    return int(module_main(argv))


def interrupted(out: Path | None) -> str:
    """The Ctrl-C message: what was kept and how to resume (nothing is ever half-written)."""
    from gatesim.experiment.store import PartialStore, partial_folder

    kept = 0 if out is None else PartialStore(partial_folder(out)).count()
    if out is None or not kept:
        return "interrupted: nothing was written"
    return (
        f"interrupted: {kept} finished replication(s) kept in {partial_folder(out)}; "
        f"rerun with --out {out} --resume to reuse them"
    )
