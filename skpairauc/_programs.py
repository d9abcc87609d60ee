"""Compiled training programs: built once, kept in a bounded cache, saved on disk.

Every training program (the exact objective's value and gradient, the
stochastic epoch loop, the optimizer's initial state) is compiled ahead of
time for one configuration and one set of (bucketed) shapes, and goes through
:func:`get`:

* **In memory**, at most ``max_programs`` compiled programs stay loaded,
  least recently used first out. Every compiled XLA program holds hundreds of
  memory mappings and megabytes of code; a process that kept them all (a loop
  over many tables or feature subsets) would run out of mappings and abort.
  A program is owned by this cache only (it is compiled from a function made
  for it, through ``jax.jit(...).lower(...).compile()``), so dropping it frees
  it, and the user's own JAX functions and caches are never touched.
* **On disk**, compiled programs are serialised under the cache directory
  (``$SKPAIRAUC_CACHE_DIR``; else ``$XDG_CACHE_HOME/skpairauc``, else
  ``~/.cache/skpairauc``; an empty ``SKPAIRAUC_CACHE_DIR`` turns it off), so a
  new process, or a grid-search worker, loads a program in milliseconds
  instead of compiling it for a second or more. The key covers the program's
  configuration and shapes, the JAX and jaxlib versions, the device and the
  package's own source, so a change of any of them compiles anew. Files are
  written to a temporary name and renamed, so concurrent writers are safe; a
  directory that cannot be written means no disk cache and one warning.
  Loading a program runs it, so the directory (and any parent made for it) is
  created private to the user (mode 0700), and one that another user owns or
  that group or others can write is neither read nor written (one warning);
  so is a file in it that another user owns or that others can write.
* **Across processes**, a program is compiled once: the process that compiles
  it holds a lock file beside it (``<name>.lock``, holding its process id),
  and other processes that need it meanwhile (grid-search workers, which
  start on the same shapes at once) wait for its file and load it instead of
  compiling it too. A lock whose process has died, or older than
  ``LOCK_STALE_S``, is ignored, and no process waits longer than
  ``LOCK_WAIT_S``: the worst case is compiling twice, never a failed fit.

JAX's own global compilation cache is neither set nor changed: a cache the
user configured for JAX keeps working as they set it, for their code and ours.
"""

import errno
import hashlib
import os
import pickle
import platform
import stat
import tempfile
import threading
import time
import warnings
from collections import Counter, OrderedDict
from concurrent.futures import Future
from pathlib import Path

import jax
import jaxlib
import numpy as np

DEFAULT_MAX_PROGRAMS = 24
# Waiting for another process's compile: poll its file this often, for at
# most this long (a compile takes tenths of a second to a few seconds), and
# ignore a lock this old (its process hung or belongs to another machine).
LOCK_POLL_S = 0.005
LOCK_WAIT_S = 60.0
LOCK_STALE_S = 600.0

_lock = threading.Lock()
_programs = OrderedDict()  # key -> Future of the compiled program


def _max_programs_from_environment():
    value = os.environ.get("SKPAIRAUC_MAX_PROGRAMS", "")
    if not value.strip():
        return DEFAULT_MAX_PROGRAMS
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        warnings.warn(
            f"SKPAIRAUC_MAX_PROGRAMS={value!r} is not a positive integer; keeping "
            f"at most {DEFAULT_MAX_PROGRAMS} compiled programs.",
            RuntimeWarning,
            stacklevel=2,
        )
        return DEFAULT_MAX_PROGRAMS
    return n


_max_programs = _max_programs_from_environment()
_disk_warned = False

#: How programs were obtained in this process: "compiled", "loaded" (from
#: disk), "reused" (from memory), "evicted"; "waited": loads of a program
#: that another process was compiling when this one needed it (also counted
#: in "loaded"); "refused": cache files left unread because another user owns
#: them or others can write them. Tests and benchmarks read it.
STATS = Counter()


def set_max_programs(n):
    """Keep at most ``n`` compiled programs loaded (evicting the oldest now)."""
    global _max_programs
    if int(n) < 1:
        raise ValueError(f"max_programs must be at least 1, got {n!r}.")
    with _lock:
        _max_programs = int(n)
        _evict()


def clear():
    """Drop every compiled program from memory (the disk cache stays)."""
    with _lock:
        STATS["evicted"] += len(_programs)
        _programs.clear()


def n_loaded():
    """Number of compiled programs currently loaded."""
    return len(_programs)


def cache_dir():
    """The disk cache directory, or None when it is turned off."""
    configured = os.environ.get("SKPAIRAUC_CACHE_DIR")
    if configured is not None:
        return Path(configured).expanduser() if configured.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "skpairauc"


def _evict():
    while len(_programs) > _max_programs:
        _programs.popitem(last=False)
        STATS["evicted"] += 1


_SOURCE_HASH = None


def _environment():
    """What a compiled program depends on besides its own key."""
    global _SOURCE_HASH
    if _SOURCE_HASH is None:
        digest = hashlib.sha256()
        for path in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(path.read_bytes())
        _SOURCE_HASH = digest.hexdigest()[:16]
    device = jax.devices()[0]
    return (
        jax.__version__,
        jaxlib.__version__,
        device.platform,
        getattr(device, "device_kind", ""),
        platform.machine(),
        _SOURCE_HASH,
    )


def _spec(value):
    dtype = value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype
    return jax.ShapeDtypeStruct(np.shape(value), dtype)


def _signature(args):
    leaves, treedef = jax.tree.flatten(args)
    specs = [_spec(leaf) for leaf in leaves]
    return str(treedef), tuple((s.shape, str(s.dtype)) for s in specs), specs, treedef


def _disk_path(key):
    """The file of ``key``'s program, or None when there is no disk cache: it
    is turned off, or its directory cannot be made or must not be trusted (one
    warning per process)."""
    try:
        directory = cache_dir()
    except RuntimeError as error:  # no home directory (e.g. a uid without one)
        _warn_disk(error)
        return None
    if directory is None:
        return None
    try:
        _make_private_dir(directory)
        problem = _untrusted(directory)
    except OSError as error:  # a path through a file, no permission, ...
        _warn_disk(error)
        return None
    if problem:
        _warn_once(
            f"skpairauc does not use its compile cache {str(directory)!r}: "
            f"{problem}. Loading a compiled program runs it, so whoever can "
            "write there could run code as you; compiled programs will not be "
            "kept across processes. Make the directory yours and private "
            f"(`chmod 700 {directory}`), or set SKPAIRAUC_CACHE_DIR to a private "
            "directory, or to an empty value to turn the cache off.",
            UserWarning,
        )
        return None
    digest = hashlib.sha256(repr((key, _environment())).encode()).hexdigest()
    return directory / f"{key[0]}-{digest[:32]}.bin"


def _make_private_dir(directory):
    """Create ``directory`` and its missing parents with mode 0700.

    ``os.makedirs`` gives its mode to the last directory only, and the umask
    may take bits from it, so each directory made here is made and then
    set to 0700. A directory that exists already is left as it is: it is the
    user's choice, and :func:`_untrusted` judges it.
    """
    missing = []
    path = Path(directory)
    while not os.path.lexists(path) and path.parent != path:
        missing.append(path)
        path = path.parent
    for path in reversed(missing):
        try:
            os.makedirs(path, mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: judged, not changed
        os.chmod(path, 0o700)


def _user_id():
    """The effective user id, or None where the platform has none (Windows)."""
    return os.geteuid() if hasattr(os, "geteuid") else None


def _unsafe(status, uid):
    """What lets someone other than user ``uid`` change the file or directory
    of ``status`` (an ``os.stat_result``), or None."""
    if status.st_uid != uid:
        return f"it is owned by uid {status.st_uid}, not by you (uid {uid})"
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = oct(stat.S_IMODE(status.st_mode))
        return f"it is writable by group or others (mode {mode})"
    return None


def _untrusted(directory):
    """What makes ``directory`` unsafe to load compiled programs from, or None.

    Raises ``OSError`` when it cannot be examined, and ``NotADirectoryError``
    when it is not a directory.
    """
    uid = _user_id()
    target = os.stat(directory)
    if not stat.S_ISDIR(target.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(directory))
    if uid is None:
        # No owners, and the mode bits do not show who may write (Windows
        # reports every writable directory as 0o777): nothing to check.
        return None
    # A symbolic link is judged by its target, the directory actually read and
    # written (a link's own mode means nothing); the link itself must be this
    # user's or root's, since in a shared directory such as /tmp its owner can
    # point it elsewhere between this check and a load.
    link = os.lstat(directory)
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (uid, 0):
        return f"it is a symbolic link owned by uid {link.st_uid}"
    return _unsafe(target, uid)


def _warn_disk(error):
    _warn_once(
        f"skpairauc could not use its compile cache ({error}); compiled "
        "programs will not be kept across processes. Set SKPAIRAUC_CACHE_DIR "
        "to a writable directory, or to an empty value to turn it off.",
        RuntimeWarning,
    )


def _warn_once(message, category):
    """Warn that the disk cache is not used, once per process."""
    global _disk_warned
    if not _disk_warned:
        _disk_warned = True
        warnings.warn(message, category, stacklevel=5)


def _load(path):
    from jax.experimental.serialize_executable import deserialize_and_load

    try:
        with open(path, "rb") as file:
            uid = _user_id()
            if uid is not None and _unsafe(os.fstat(file.fileno()), uid):
                # Not written by this user's processes, or rewritable by
                # others: compile anew, and the save replaces it.
                STATS["refused"] += 1
                return None
            payload, in_tree, out_tree = pickle.load(file)
        return deserialize_and_load(payload, in_tree, out_tree)
    except FileNotFoundError:
        return None
    except Exception:  # a truncated or stale file: compile anew, overwrite it
        return None


def _save(path, compiled):
    from jax.experimental.serialize_executable import serialize

    try:
        blob = pickle.dumps(serialize(compiled))
        # mkstemp creates the file readable and writable by its owner only.
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(blob)
            os.replace(temporary, path)  # atomic: readers see all or nothing
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        _warn_disk(error)
    except Exception:  # an executable that cannot be serialised: keep it in memory
        pass


def _lock_path(path):
    return path.with_name(path.stem + ".lock")


def _holder_is_gone(lock):
    """Whether ``lock`` is stale: its process has exited, or it is older than
    ``LOCK_STALE_S`` (a hung process, or one on another machine sharing the
    directory)."""
    try:
        if time.time() - lock.stat().st_mtime > LOCK_STALE_S:
            return True
        pid = int(lock.read_text() or 0)
    except (OSError, ValueError):
        return False  # being written, or just removed: look again later
    if pid <= 0 or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def _claim(path):
    """Take the lock for compiling ``path``'s program: the lock's path if this
    process holds it, None if it cannot lock (then it compiles unlocked), or
    False if a live process holds it."""
    lock = _lock_path(path)
    for _ in range(2):
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if not _holder_is_gone(lock):
                return False
            try:
                os.unlink(lock)  # stale: take it over
            except OSError:
                pass
            continue
        except OSError:
            return None  # not a directory, read-only, full: _save warns once
        with os.fdopen(handle, "w") as file:
            file.write(str(os.getpid()))
        return lock
    return None


def _wait_for(path):
    """Wait for the process holding ``path``'s lock to save the program; the
    loaded program, or None when the lock went away without a usable file or
    became stale, or after ``LOCK_WAIT_S``."""
    lock = _lock_path(path)
    deadline = time.monotonic() + LOCK_WAIT_S
    while time.monotonic() < deadline:
        if path.exists() or not lock.exists():
            # Saved (files appear whole: written then renamed), or unlocked
            # since the last look, with or without a file.
            return _load(path)
        if _holder_is_gone(lock):
            return None
        time.sleep(LOCK_POLL_S)
    return None


def _release(lock):
    if lock:
        try:
            os.unlink(lock)
        except OSError:
            pass


# XLA options this jaxlib does not know (an older XLA): left out of later
# compiles in this process.
_unknown_options = set()


def _compile(lowered, options):
    """``lowered.compile()`` with the XLA ``options`` this jaxlib knows: an
    option is a speed-up, never a reason for a fit to fail (an older XLA
    refuses an option it does not know)."""
    options = {k: v for k, v in (options or {}).items() if k not in _unknown_options}
    while True:
        try:
            return lowered.compile(compiler_options=options or None)
        except Exception as error:
            unknown = [
                k for k in options if f"No such compile option: '{k}'" in str(error)
            ]
            if not unknown:
                raise
            _unknown_options.update(unknown)
            options = {k: v for k, v in options.items() if k not in unknown}


def get(name, build, static, args, donate_argnums=(), compiler_options=None):
    """The compiled program ``name`` for ``static`` settings and ``args``' shapes.

    Parameters
    ----------
    name : str
        The program's name (part of the key and of the file name).
    build : callable
        ``build(static)`` returns the Python function to compile; called only
        when neither memory nor disk has the program.
    static : hashable
        Compile-time settings (a NamedTuple of plain values).
    args : pytree
        Example arguments (arrays or ``jax.ShapeDtypeStruct``), positional.
    donate_argnums : tuple of int
        Arguments whose buffers the program may reuse.
    compiler_options : dict or None
        XLA options of this compile only (part of the key); JAX's and the
        user's settings are untouched.

    Returns
    -------
    callable
        The compiled program; call it with arguments of those shapes.
    """
    tree, shapes, specs, treedef = _signature(args)
    options = tuple(sorted((compiler_options or {}).items()))
    key = (name, static, tree, shapes, tuple(donate_argnums), options)
    with _lock:
        future = _programs.get(key)
        owner = future is None
        if owner:  # this call builds it; concurrent callers wait for it
            future = _programs[key] = Future()
            _evict()
        else:
            _programs.move_to_end(key)
            STATS["reused"] += 1
    if not owner:
        return future.result()
    lock = None
    try:
        path = _disk_path(key)
        compiled = _load(path) if path is not None else None
        if compiled is None and path is not None:
            lock = _claim(path)
            if lock is False:  # another process is compiling it
                compiled = _wait_for(path)
                STATS["waited"] += compiled is not None
                lock = None if compiled is not None else _claim(path)
            elif lock:  # saved and unlocked by another since the first look?
                compiled = _load(path)
        if compiled is not None:
            STATS["loaded"] += 1
        else:
            function = jax.jit(build(static), donate_argnums=donate_argnums)
            lowered = function.lower(*jax.tree.unflatten(treedef, specs))
            compiled = _compile(lowered, compiler_options)
            STATS["compiled"] += 1
            if path is not None:
                _save(path, compiled)
        future.set_result(compiled)
    except BaseException as error:
        with _lock:
            if _programs.get(key) is future:
                del _programs[key]
        future.set_exception(error)
        raise
    finally:
        _release(lock)
    return compiled
