"""A pre-started Python interpreter that becomes ``python -m MOD ...`` / ``python -c CODE
...`` / ``python SCRIPT ...`` once it is told the final arguments.

The executor starts this file as a script (``python .../warm.py MODE [MOD]``) inside the
node's sandbox, with the node's environment, working folder and log files, while the node's
upstream still runs: the interpreter's start-up and, for ``-m``, the module's imports are
paid off the critical path. stdin is a pipe carrying one message (the interpreter's argv
after the executable, NUL-separated, ended by EOF); stdin then becomes /dev/null, as a cold
node has it, and the program runs with the sys.argv, sys.path[0], ``__main__`` module,
exit code and traceback a fresh interpreter would give it. Only the standard library is
imported here (the file runs as a script, outside any package), so a script or ``-c``
program sees no module a fresh interpreter would not have loaded, save ``runpy`` for
directories and zip files.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing/types import at run time: a fresh interpreter may lack them
    from types import TracebackType

# kubeline.runtime's step shim: what `python -m kubeline.runtime` imports before any work.
PRELOAD: dict[str, tuple[str, ...]] = {"kubeline.runtime": ("kubeline.runtime.shim",)}
_THIS = os.path.abspath(__file__)


def preload(module: str) -> None:
    """Import what ``python -m module`` imports before the module's own code runs (its
    parent packages) and, for known modules, what that code imports first; a failure is left
    for the real run to report at the moment a fresh interpreter would."""
    sys.path[0] = os.getcwd()  # -m's sys.path[0]; never this file's folder
    parts = module.split(".")
    names = [".".join(parts[:i]) for i in range(1, len(parts))] + list(PRELOAD.get(module, ()))
    for name in names:
        try:
            __import__(name)
        except Exception:  # reported by the real run
            return


def read_message() -> list[str]:
    """The argv after the executable; stdin becomes /dev/null afterwards."""
    chunks = []
    while chunk := os.read(0, 65536):
        chunks.append(chunk)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    data = b"".join(chunks)
    if not data:
        os._exit(0)  # the executor let this interpreter go unused
    return [os.fsdecode(part) for part in data.split(b"\0")]


def _fresh_main() -> dict[str, object]:
    """A ``__main__`` module as the interpreter creates it, in place of this file's."""
    import _frozen_importlib
    import builtins

    module = type(sys)("__main__")
    module.__dict__.update(__annotations__={}, __builtins__=builtins,
                           __loader__=_frozen_importlib.BuiltinImporter)
    sys.modules["__main__"] = module
    return module.__dict__


def _trimmed(tb: "TracebackType | None", skip_runpy: bool) -> "TracebackType | None":
    """The traceback without this file's frames (and runpy's, which a script never shows)."""
    names = {_THIS, "<frozen runpy>"} if skip_runpy else {_THIS}
    while tb is not None and tb.tb_frame.f_code.co_filename in names:
        tb = tb.tb_next
    return tb


def _importable(path: str) -> bool:
    """A folder or zip file: run as its ``__main__`` module, as the interpreter does."""
    try:
        import zipimport

        zipimport.zipimporter(path)
        return True
    except Exception:  # not a zip file
        return os.path.isdir(path)


def _run_script(path: str) -> None:
    """``python path ...`` for a plain file (sys.argv is set)."""
    absolute = os.path.abspath(path)
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError as exc:  # the interpreter's own message and exit code
        print(f"{sys.executable}: can't open file {absolute!r}: [Errno {exc.errno}] "
              f"{exc.strerror}", file=sys.stderr)
        sys.exit(2)
    code = compile(source, absolute, "exec", dont_inherit=True)
    import _frozen_importlib_external

    main = _fresh_main()
    main.update(__file__=absolute, __cached__=None,
                __loader__=_frozen_importlib_external.SourceFileLoader("__main__", absolute))
    exec(code, main)


def run(argv: list[str]) -> None:
    """Run argv (what follows the executable) as a fresh interpreter would."""
    sys.orig_argv = [sys.executable, *argv]
    module = argv[1] if argv[0] == "-m" else None
    if argv[0] not in ("-m", "-c") and _importable(argv[0]):
        module = "__main__"
        sys.path[0] = os.path.abspath(argv[0])
    try:
        if module is not None:
            import runpy

            if argv[0] == "-m":
                sys.path[0] = os.getcwd()
                sys.argv = ["-m", *argv[2:]]
            else:
                sys.argv = list(argv)
            _fresh_main()
            runpy._run_module_as_main(module, argv[0] == "-m")  # type: ignore[attr-defined]
        elif argv[0] == "-c":
            sys.path[0] = ""
            sys.argv = ["-c", *argv[2:]]
            exec(compile(argv[1], "<string>", "exec", dont_inherit=True), _fresh_main())
        else:
            sys.argv = list(argv)
            _run_script(argv[0])
    except SystemExit:
        raise  # the interpreter's own exit handling: code, message, atexit
    except BaseException as exc:  # printed as an uncaught exception
        tb = _trimmed(exc.__traceback__, skip_runpy=module is None)
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        if isinstance(exc, KeyboardInterrupt):
            import signal

            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        sys.exit(1)


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "-m" and len(sys.argv) > 2:
        preload(sys.argv[2])
    else:
        sys.path[0] = ""  # not this file's folder; run() sets the program's own entry
    run(read_message())


if __name__ == "__main__":
    main()
