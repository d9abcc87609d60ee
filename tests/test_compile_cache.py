"""The compiled-program cache and the import-free prediction path (issue 10).

* ``import skpairauc``, unpickling a fitted model and predicting import neither
  JAX nor optax;
* the disk cache's directory rules (``SKPAIRAUC_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/skpairauc``, else ``~/.cache/skpairauc``; an empty value
  turns it off; an unusable directory costs one warning, never a fit);
* a directory the package makes is private (0700); one that another user
  owns or that group or others can write is neither read nor written, since
  loading a compiled program runs it, and neither is such a file;
* no recompile within a length bucket; a second process loads instead of
  compiling, and predicts the same; concurrent writers; the user's JAX
  configuration is left alone.

Everything that depends on the environment or on a fresh process runs in a
child interpreter with a controlled environment: ``_programs`` keeps compiled
programs in memory, and the session's conftest points ``SKPAIRAUC_CACHE_DIR``
at a per-session directory, so in-process state would prove nothing. The
children import a copy of the package taken when this module's first test
starts: the disk cache's key covers the package's source, so an edit of the
checkout while the tests run would otherwise turn a cache hit into a compile.
"""

import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import skpairauc
from skpairauc import PairwiseAUCClassifier

pytestmark = pytest.mark.slow  # child interpreters, each importing JAX

_SNAPSHOT = {}  # "path": the directory the children import skpairauc from


@pytest.fixture(scope="module", autouse=True)
def package_snapshot(tmp_path_factory):
    """A copy of the package for the children (see the module docstring)."""
    root = tmp_path_factory.mktemp("snapshot")
    shutil.copytree(
        Path(skpairauc.__file__).parent,
        root / "skpairauc",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    _SNAPSHOT["path"] = root
    yield root
    _SNAPSHOT.clear()


RESULT = "CHILD_RESULT "
CHILD_TIMEOUT = 300

# One child job: optionally wait for peers (a barrier on files), run a list of
# fits on one fixed data set, record ``_programs.STATS`` after each, the
# warnings, and save every fit's decision_function.
FIT_CHILD = textwrap.dedent(
    """
    import json, sys, time, warnings
    from pathlib import Path

    spec = json.loads(sys.argv[1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import numpy as np
        from sklearn.datasets import make_classification

        from skpairauc import PairwiseAUCClassifier, _programs
        from skpairauc import _host_objective

        # Every exact fit compiles (small ones would run in NumPy): these
        # children test the compiled programs and their disk cache.
        _host_objective.HOST_MAX_PAIRS = 0
        _host_objective.exact_on_host = lambda: False

        import jax  # what a fit would import: the barrier then starts compiles

        if spec.get("barrier"):
            Path(spec["barrier"]["me"]).touch()
            deadline = time.monotonic() + 120
            while not all(Path(p).exists() for p in spec["barrier"]["all"]):
                if time.monotonic() > deadline:
                    raise SystemExit("barrier timed out")
                time.sleep(0.01)
        X, y = make_classification(
            n_samples=1200, n_features=8, n_informative=4, weights=[0.85],
            random_state=0,
        )
        stats, scores = [], []
        for fit in spec["fits"]:
            params = dict(fit)
            n = params.pop("n", 1000)
            clf = PairwiseAUCClassifier(**params).fit(X[:n], y[:n])
            stats.append(dict(_programs.STATS))
            scores.append(clf.decision_function(X))
        if spec.get("scores"):
            np.save(spec["scores"], np.concatenate(scores))
    print(__RESULT__ + json.dumps({
        "stats": stats,
        "warnings": [[w.category.__name__, str(w.message)] for w in caught],
        "package": _programs.__file__,
    }))
    """
).replace("__RESULT__", repr(RESULT))

LBFGS_SMALL = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "random_state": 0}
ADAM_SMALL = {
    "hidden_layer_sizes": (),
    "solver": "adam",
    "max_iter": 3,
    "random_state": 0,
}


def child_env(tmp_path, **settings):
    """A controlled environment: HOME, TMPDIR and the working directory under
    ``tmp_path``, no inherited cache settings; ``settings`` add variables, and
    a value of None leaves the variable unset."""
    env = dict(os.environ)
    for name in (
        "SKPAIRAUC_CACHE_DIR",
        "XDG_CACHE_HOME",
        "JAX_COMPILATION_CACHE_DIR",
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
    ):
        env.pop(name, None)
    for name in ("home", "tmp", "cwd"):
        (tmp_path / name).mkdir(exist_ok=True)
    env.update(
        HOME=str(tmp_path / "home"),
        TMPDIR=str(tmp_path / "tmp"),
        JAX_PLATFORMS="cpu",
        PYTHONPATH=str(_SNAPSHOT["path"]),
        PYTHONWARNINGS="",
    )
    for name, value in settings.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def start_child(code, env, tmp_path, *args):
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=tmp_path / "cwd",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_child(proc):
    stdout, stderr = proc.communicate(timeout=CHILD_TIMEOUT)
    assert proc.returncode == 0, stdout[-2000:] + stderr[-4000:]
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT)]
    assert lines, stdout[-2000:] + stderr[-4000:]
    result = json.loads(lines[-1][len(RESULT) :])
    if "package" in result:  # the children run the snapshot
        assert Path(result["package"]).parent == _SNAPSHOT["path"] / "skpairauc"
    return result


def run_fits(tmp_path, env, fits, scores=None, **extra):
    spec = json.dumps({"fits": fits, "scores": scores and str(scores), **extra})
    return finish_child(start_child(FIT_CHILD, env, tmp_path, spec))


def files_under(path):
    return sorted(p for p in path.rglob("*") if p.is_file())


def runtime_warnings(result):
    return [message for kind, message in result["warnings"] if kind == "RuntimeWarning"]


# --------------------------------------------------------------------------- #
# Importing, unpickling and predicting are NumPy only
# --------------------------------------------------------------------------- #
def test_import_unpickle_and_predict_import_neither_jax_nor_optax(
    imbalanced, multiclass, tmp_path
):
    models = {
        "binary": (PairwiseAUCClassifier((4,), random_state=0), imbalanced),
        "multiclass": (PairwiseAUCClassifier((), random_state=0), multiclass),
    }
    expected = {}
    for name, (clf, (X, y)) in models.items():
        clf.fit(X, y)
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps(clf))
        np.save(tmp_path / f"{name}_X.npy", X)
        expected[name] = {
            method: getattr(clf, method)(X)
            for method in ("predict", "predict_proba", "decision_function")
        }
    code = textwrap.dedent(
        f"""
        import json, pickle, sys
        import numpy as np

        def loaded():
            return sorted(m for m in ("jax", "jaxlib", "optax") if m in sys.modules)

        seen = {{}}
        import skpairauc
        seen["import"] = loaded()
        package = skpairauc.__file__
        out = {{}}
        for name in ("binary", "multiclass"):
            with open({str(tmp_path)!r} + f"/{{name}}.pkl", "rb") as f:
                clf = pickle.load(f)
            seen["unpickle " + name] = loaded()
            X = np.load({str(tmp_path)!r} + f"/{{name}}_X.npy")
            for method in ("predict", "predict_proba", "decision_function"):
                np.save({str(tmp_path)!r} + f"/{{name}}_{{method}}.npy",
                        getattr(clf, method)(X))
                seen[method + " " + name] = loaded()
        import jax  # the probe itself sees an import
        seen["control"] = loaded()
        print({RESULT!r} + json.dumps({{"seen": seen, "package": package}}))
        """
    )
    result = finish_child(start_child(code, child_env(tmp_path), tmp_path))
    seen = result["seen"]
    control = seen.pop("control")
    assert "jax" in control  # the check can see JAX when it is there
    assert len(seen) == 1 + 2 * 4
    assert all(modules == [] for modules in seen.values()), seen
    for name, methods in expected.items():
        for method, values in methods.items():
            got = np.load(tmp_path / f"{name}_{method}.npy")
            np.testing.assert_array_equal(got, values, err_msg=f"{name} {method}")


# --------------------------------------------------------------------------- #
# Directory rules
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("case", ["xdg", "home", "explicit", "disabled"])
def test_cache_directory_rules(tmp_path, case):
    xdg, explicit = tmp_path / "xdg", tmp_path / "explicit"
    home = tmp_path / "home"
    settings = {
        "xdg": {"XDG_CACHE_HOME": xdg},
        "home": {"XDG_CACHE_HOME": None},
        "explicit": {"XDG_CACHE_HOME": xdg, "SKPAIRAUC_CACHE_DIR": explicit},
        "disabled": {"XDG_CACHE_HOME": xdg, "SKPAIRAUC_CACHE_DIR": ""},
    }[case]
    expected_dir = {
        "xdg": xdg / "skpairauc",
        "home": home / ".cache" / "skpairauc",
        "explicit": explicit,
        "disabled": None,
    }[case]
    env = child_env(tmp_path, **settings)
    result = run_fits(tmp_path, env, [LBFGS_SMALL])
    assert result["stats"][0].get("compiled", 0) >= 1
    assert runtime_warnings(result) == []
    written = files_under(tmp_path)
    if expected_dir is None:
        assert written == [], "an empty SKPAIRAUC_CACHE_DIR wrote files"
        return
    assert written, "the fit saved no compiled program"
    assert all(path.parent == expected_dir for path in written), written
    assert all(path.suffix == ".bin" for path in written), written


def test_unusable_cache_directory_warns_once_and_fits(tmp_path):
    blocker = tmp_path / "a_regular_file"
    blocker.write_text("not a directory")
    env = child_env(tmp_path, SKPAIRAUC_CACHE_DIR=blocker / "sub")
    fits = [
        LBFGS_SMALL,
        {**LBFGS_SMALL, "hidden_layer_sizes": (3,)},
        ADAM_SMALL,
        {**LBFGS_SMALL, "n": 400},
    ]
    result = run_fits(tmp_path, env, fits)
    assert len(result["stats"]) == len(fits)  # every fit succeeded
    assert result["stats"][-1]["compiled"] >= len(fits)  # and each saved nothing
    warned = runtime_warnings(result)
    assert len(warned) == 1, warned  # documented: "one warning"
    assert "compile cache" in warned[0]
    assert blocker.read_text() == "not a directory"
    assert files_under(tmp_path / "home") == []


# --------------------------------------------------------------------------- #
# A directory, or a file, that others could write is never loaded
# --------------------------------------------------------------------------- #
posix_only = pytest.mark.skipif(
    not hasattr(os, "geteuid"), reason="no owners or POSIX modes on this platform"
)
root_only = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="giving a file to another user needs root",
)
NOBODY = 65534


class RunsOnLoad:
    """Unpickling it makes the directory ``marker``: it stands for the code a
    planted cache file would run when loaded."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def cache_warnings(result):
    return [
        (kind, message)
        for kind, message in result["warnings"]
        if "compile cache" in message
    ]


@posix_only
def test_a_cache_directory_others_can_write_is_neither_read_nor_written(tmp_path):
    cache = tmp_path / "cache"
    env = child_env(tmp_path, SKPAIRAUC_CACHE_DIR=cache)
    fits = [LBFGS_SMALL, ADAM_SMALL]
    first = run_fits(tmp_path, env, fits)["stats"][-1]
    # Plant, in place of each program saved, a file that runs code when loaded.
    planted = files_under(cache)
    assert len(planted) == first["compiled"] >= 2, first
    markers = [tmp_path / f"ran{i}" for i in range(len(planted))]
    for path, marker in zip(planted, markers):
        path.write_bytes(pickle.dumps(RunsOnLoad(marker)))
    contents = {path: path.read_bytes() for path in planted}
    cache.chmod(0o777)
    # The same fits, and one of new shapes that would save a new program.
    result = run_fits(tmp_path, env, [*fits, {**LBFGS_SMALL, "n": 400}])
    stats = result["stats"][-1]
    assert stats.get("loaded", 0) == 0 and stats.get("refused", 0) == 0, stats
    assert stats["compiled"] > len(planted), stats
    assert not any(marker.exists() for marker in markers)
    # Nothing written: no program, no lock, no temporary file, no change.
    assert {p: p.read_bytes() for p in files_under(cache)} == contents
    assert mode_of(cache) == 0o777  # the user's directory, left as it is
    warned = cache_warnings(result)
    assert len(warned) == 1, warned  # once, for three fits
    kind, message = warned[0]
    assert kind == "UserWarning"
    assert str(cache) in message and "writable by group or others" in message
    assert "chmod 700" in message and "SKPAIRAUC_CACHE_DIR" in message
    # Control: once private again, the planted files are loaded (and run).
    cache.chmod(0o700)
    control = run_fits(tmp_path, env, fits)
    assert all(marker.exists() for marker in markers)
    assert cache_warnings(control) == []


@posix_only
def test_a_cache_directory_only_its_owner_can_write_is_used(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o755)  # others may read it, not write it
    env = child_env(tmp_path, SKPAIRAUC_CACHE_DIR=cache)
    fits = [LBFGS_SMALL, ADAM_SMALL]
    first = run_fits(tmp_path, env, fits)
    second = run_fits(tmp_path, env, fits)
    saved = first["stats"][-1]
    assert saved.get("compiled", 0) >= 2, saved
    assert len(files_under(cache)) == saved["compiled"], saved
    loaded = second["stats"][-1]
    assert loaded.get("compiled", 0) == 0, loaded
    assert loaded.get("loaded", 0) == saved["compiled"], loaded
    assert cache_warnings(first) == cache_warnings(second) == []
    assert mode_of(cache) == 0o755  # an existing directory is not changed
    # Each saved file is its owner's only.
    assert all(mode_of(path) == 0o600 for path in files_under(cache))


@posix_only
@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_a_cache_directory_the_package_makes_is_private(tmp_path, monkeypatch, umask):
    from skpairauc import _programs

    made = [tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "cache"]
    monkeypatch.setenv("SKPAIRAUC_CACHE_DIR", str(made[-1]))
    monkeypatch.setattr(_programs, "_disk_warned", False)
    before = mode_of(tmp_path)
    previous = os.umask(umask)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            path = _programs._disk_path(("probe", None))
    finally:
        os.umask(previous)
    assert path is not None and path.parent == made[-1]
    assert {str(d): oct(mode_of(d)) for d in made} == {str(d): "0o700" for d in made}
    assert mode_of(tmp_path) == before  # an existing parent is not changed


@posix_only
@pytest.mark.parametrize(
    "mode, used",
    [
        (0o700, True),
        (0o755, True),
        (0o750, True),
        (0o500, True),  # read-only: loads, and saving it warns as before
        (0o777, False),
        (0o1777, False),  # sticky, as /tmp: others still add files
        (0o770, False),
        (0o720, False),
        (0o702, False),
    ],
)
def test_the_cache_directory_mode_decides_whether_it_is_used(
    tmp_path, monkeypatch, mode, used
):
    from skpairauc import _programs

    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(mode)
    monkeypatch.setenv("SKPAIRAUC_CACHE_DIR", str(cache))
    monkeypatch.setattr(_programs, "_disk_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = [_programs._disk_path(("probe", i)) for i in range(3)]
    assert mode_of(cache) == mode
    if used:
        assert all(path is not None and path.parent == cache for path in paths)
        assert caught == []
    else:
        assert paths == [None] * 3
        assert [w.category for w in caught] == [UserWarning]  # once
        assert str(cache) in str(caught[0].message)
        assert "writable by group or others" in str(caught[0].message)


@root_only
def test_a_cache_directory_another_user_owns_is_not_used(tmp_path, monkeypatch):
    from skpairauc import _programs

    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    os.chown(cache, NOBODY, -1)
    monkeypatch.setenv("SKPAIRAUC_CACHE_DIR", str(cache))
    monkeypatch.setattr(_programs, "_disk_warned", False)
    with pytest.warns(UserWarning, match=f"owned by uid {NOBODY}"):
        assert _programs._disk_path(("probe", None)) is None
    os.chown(cache, os.geteuid(), -1)  # control: the same directory, the user's
    assert _programs._disk_path(("probe", None)).parent == cache


@posix_only
@pytest.mark.parametrize("case", ["private", "writable", "link_of_another_user"])
def test_a_symlinked_cache_directory_is_judged_by_its_target(
    tmp_path, monkeypatch, case
):
    from skpairauc import _programs

    if case == "link_of_another_user" and os.geteuid() != 0:
        pytest.skip("giving a link to another user needs root")
    target, link = tmp_path / "target", tmp_path / "link"
    target.mkdir(mode=0o700)
    target.chmod(0o777 if case == "writable" else 0o700)
    link.symlink_to(target, target_is_directory=True)
    if case == "link_of_another_user":
        os.lchown(link, NOBODY, -1)
    monkeypatch.setenv("SKPAIRAUC_CACHE_DIR", str(link))
    monkeypatch.setattr(_programs, "_disk_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = _programs._disk_path(("probe", None))
    if case == "private":
        assert path is not None and path.parent == link and caught == []
    else:
        assert path is None
        assert [w.category for w in caught] == [UserWarning]
        problem = {
            "writable": "writable by group or others",
            "link_of_another_user": f"symbolic link owned by uid {NOBODY}",
        }[case]
        assert problem in str(caught[0].message)


@posix_only
@pytest.mark.parametrize("case", ["writable_by_others", "another_users"])
def test_a_cache_file_others_could_have_written_is_not_loaded(
    tmp_path, monkeypatch, case
):
    from skpairauc import _programs

    if case == "another_users" and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    monkeypatch.setattr(_programs, "STATS", _programs.STATS.copy())
    path, marker = tmp_path / "program.bin", tmp_path / "ran"
    path.write_bytes(pickle.dumps(RunsOnLoad(marker)))
    path.chmod(0o600)
    # Control: the user's own private file is loaded (and runs).
    assert _programs._load(path) is None  # not a program: compiled anew
    assert marker.exists() and _programs.STATS["refused"] == 0
    marker.rmdir()
    if case == "writable_by_others":
        path.chmod(0o666)
    else:
        os.chown(path, NOBODY, -1)
    assert _programs._load(path) is None
    assert not marker.exists()
    assert _programs.STATS["refused"] == 1


# --------------------------------------------------------------------------- #
# Reuse: within a bucket, and across processes
# --------------------------------------------------------------------------- #
def test_no_recompile_within_a_bucket(tmp_path):
    env = child_env(tmp_path, SKPAIRAUC_CACHE_DIR=tmp_path / "cache")
    # 1,000 and 1,020 rows share every bucket: rows 1,024, positives 192,
    # negatives 896.
    fits = [
        {**LBFGS_SMALL, "n": 1000},
        {**LBFGS_SMALL, "n": 1020, "random_state": 3, "alpha": 5.0},
        {**ADAM_SMALL, "n": 1000},
        {
            **ADAM_SMALL,
            "n": 1020,
            "random_state": 3,
            "learning_rate_init": 0.01,
            "alpha": 0.5,
        },
        {**LBFGS_SMALL, "n": 400},  # control: another bucket compiles
    ]
    stats = run_fits(tmp_path, env, fits)["stats"]
    compiled = [s.get("compiled", 0) for s in stats]
    assert [s.get("loaded", 0) for s in stats] == [0] * len(fits)
    assert compiled[0] >= 1
    assert compiled[1] == compiled[0], stats  # lbfgs, same bucket
    assert compiled[2] > compiled[1], stats  # adam's own programs
    assert compiled[3] == compiled[2], stats  # adam, same bucket
    assert compiled[4] > compiled[3], stats  # the control
    assert stats[1].get("reused", 0) > stats[0].get("reused", 0)


def test_second_process_loads_instead_of_compiling(tmp_path):
    cache = tmp_path / "cache"
    env = child_env(tmp_path, SKPAIRAUC_CACHE_DIR=cache)
    fits = [LBFGS_SMALL, ADAM_SMALL]
    first = run_fits(tmp_path, env, fits, scores=tmp_path / "first.npy")["stats"][-1]
    n_files = len(files_under(cache))
    second = run_fits(tmp_path, env, fits, scores=tmp_path / "second.npy")["stats"][-1]
    # The exact fit's program and the adam fit's epoch program.
    assert first.get("compiled", 0) >= 2 and first.get("loaded", 0) == 0, first
    assert n_files == first["compiled"]
    assert second.get("compiled", 0) == 0, second
    assert second.get("loaded", 0) == first["compiled"], second
    assert len(files_under(cache)) == n_files
    np.testing.assert_array_equal(
        np.load(tmp_path / "second.npy"), np.load(tmp_path / "first.npy")
    )


def test_concurrent_writers_are_safe(tmp_path):
    cache = tmp_path / "cache"
    env = child_env(tmp_path, SKPAIRAUC_CACHE_DIR=cache)
    fits = [LBFGS_SMALL, ADAM_SMALL]
    ready = [tmp_path / f"ready{i}" for i in range(2)]
    procs = []
    for i in range(2):
        spec = {
            "fits": fits,
            "scores": str(tmp_path / f"writer{i}.npy"),
            "barrier": {"me": str(ready[i]), "all": [str(p) for p in ready]},
        }
        procs.append(start_child(FIT_CHILD, env, tmp_path, json.dumps(spec)))
    writers = [finish_child(proc) for proc in procs]
    for writer in writers:  # each got all its programs, and no cache trouble
        stats = writer["stats"][-1]
        assert stats.get("compiled", 0) + stats.get("loaded", 0) >= 2, stats
        assert runtime_warnings(writer) == []
    files = files_under(cache)
    # No .tmp and no .lock left behind.
    assert files and all(path.suffix == ".bin" for path in files), files
    # Each program was compiled by one process only: the other loaded it,
    # waiting for it if it was being compiled.
    compiled = [w["stats"][-1].get("compiled", 0) for w in writers]
    assert sum(compiled) == len(files), [w["stats"][-1] for w in writers]
    reader = run_fits(tmp_path, env, fits, scores=tmp_path / "reader.npy")
    stats = reader["stats"][-1]
    assert stats.get("compiled", 0) == 0, stats
    assert stats.get("loaded", 0) == len(files), stats
    for i in range(2):
        np.testing.assert_array_equal(
            np.load(tmp_path / "reader.npy"), np.load(tmp_path / f"writer{i}.npy")
        )


# --------------------------------------------------------------------------- #
# The user's JAX configuration
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("user_setting", ["unset", "environment"])
def test_user_jax_config_is_untouched(tmp_path, user_setting):
    settings = {"SKPAIRAUC_CACHE_DIR": tmp_path / "cache"}
    found = None
    if user_setting == "environment":
        found = str(tmp_path / "jax_env_cache")
        settings["JAX_COMPILATION_CACHE_DIR"] = found
    env = child_env(tmp_path, **settings)
    mine = str(tmp_path / "jax_user_cache")
    # A fit with JAX's settings as found, then the user sets them in code and
    # fits again (new programs: both fits compile).
    code = textwrap.dedent(
        f"""
        import json
        import jax
        from sklearn.datasets import make_classification
        from skpairauc import PairwiseAUCClassifier, _programs
        from skpairauc import _host_objective

        # Every exact fit compiles (small ones would run in NumPy): these
        # children test the compiled programs and their disk cache.
        _host_objective.HOST_MAX_PAIRS = 0
        _host_objective.exact_on_host = lambda: False

        names = [n for n in (
            "jax_compilation_cache_dir",
            "jax_enable_compilation_cache",
            "jax_persistent_cache_min_compile_time_secs",
            "jax_persistent_cache_min_entry_size_bytes",
        ) if hasattr(jax.config, n)]
        snap = lambda: {{n: getattr(jax.config, n) for n in names}}
        X, y = make_classification(300, 5, random_state=0)
        out = {{"before": snap()}}
        PairwiseAUCClassifier((), solver="lbfgs", random_state=0).fit(X, y)
        out["after"] = snap()
        jax.config.update("jax_compilation_cache_dir", {mine!r})
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        out["user"] = snap()
        PairwiseAUCClassifier((5,), solver="adam", max_iter=2, random_state=0).fit(X, y)
        out["after_user"] = snap()
        out["compiled"] = _programs.STATS["compiled"]
        print({RESULT!r} + json.dumps(out))
        """
    )
    out = finish_child(start_child(code, env, tmp_path))
    assert out["compiled"] >= 2  # the lbfgs program and adam's epoch program
    assert out["before"]["jax_compilation_cache_dir"] == found
    assert out["after"] == out["before"]
    assert out["user"]["jax_compilation_cache_dir"] == mine
    assert out["user"]["jax_persistent_cache_min_compile_time_secs"] == 0.0
    assert out["after_user"] == out["user"]


def test_no_home_directory_means_no_disk_cache_not_a_failed_fit(monkeypatch):
    # A uid without a passwd entry and no HOME (e.g. docker run --user 1234):
    # Path.home() raises; the cache is off, with a warning, and fits go on.
    from pathlib import Path

    from skpairauc import _programs

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("SKPAIRAUC_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    monkeypatch.setattr(_programs, "_disk_warned", False)
    with pytest.warns(RuntimeWarning, match="could not use its compile cache"):
        assert _programs._disk_path(("probe", None)) is None


# --------------------------------------------------------------------------- #
# The cross-process compile lock, in process (no compiles)
# --------------------------------------------------------------------------- #
def _exited_pid():
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_live_lock_is_waited_for_and_its_file_loaded(tmp_path, sleeper, monkeypatch):
    from skpairauc import _programs

    path = tmp_path / "program.bin"
    _programs._lock_path(path).write_text(str(sleeper.pid))
    assert _programs._claim(path) is False  # held by a live process
    monkeypatch.setattr(_programs, "_load", lambda p: "loaded" if p.exists() else None)

    def save_later():
        import time

        time.sleep(0.2)
        path.write_bytes(b"program")

    import threading

    saver = threading.Thread(target=save_later)
    saver.start()
    assert _programs._wait_for(path) == "loaded"
    saver.join()


def test_a_lock_whose_holder_died_is_taken_over(tmp_path, sleeper, monkeypatch):
    from skpairauc import _programs

    path = tmp_path / "program.bin"
    lock = _programs._lock_path(path)
    lock.write_text(str(_exited_pid()))
    assert _programs._claim(path) == lock  # stale: taken over
    assert lock.read_text() == str(os.getpid())
    _programs._release(lock)
    assert not lock.exists()

    # The holder dies while another process waits: the wait ends with no
    # program (the waiter compiles it), long before LOCK_WAIT_S.
    monkeypatch.setattr(_programs, "_load", lambda p: None)
    lock.write_text(str(sleeper.pid))
    sleeper.kill()
    sleeper.wait()
    assert _programs._wait_for(path) is None


def test_an_old_lock_is_taken_over(tmp_path, sleeper):
    from skpairauc import _programs

    path = tmp_path / "program.bin"
    lock = _programs._lock_path(path)
    lock.write_text(str(sleeper.pid))  # alive, but the lock is too old
    old = os.stat(lock).st_mtime - 2 * _programs.LOCK_STALE_S
    os.utime(lock, (old, old))
    assert _programs._claim(path) == lock


def test_no_lock_without_a_writable_directory(tmp_path):
    from skpairauc import _programs

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert _programs._claim(blocker / "program.bin") is None


def test_an_xla_option_this_jaxlib_does_not_know_is_left_out(monkeypatch):
    # An older XLA refuses an option it does not know (jaxlib 0.4.30 has no
    # xla_cpu_use_fusion_emitters): the program compiles without it.
    import jax
    import jax.numpy as jnp

    from skpairauc import _programs

    monkeypatch.setattr(_programs, "_unknown_options", set())
    monkeypatch.setenv("SKPAIRAUC_CACHE_DIR", "")
    option = "xla_skpairauc_test_no_such_option"
    program = _programs.get(
        "test_unknown_option",
        lambda static: lambda x: x * static,
        2.0,
        (jax.ShapeDtypeStruct((3,), np.float32),),
        compiler_options={option: True},
    )
    np.testing.assert_array_equal(program(jnp.ones(3, np.float32)), [2.0, 2.0, 2.0])
    assert _programs._unknown_options == {option}
    # Any other compile error still reaches the caller.

    class Refusing:
        def compile(self, compiler_options=None):
            raise RuntimeError("INVALID_ARGUMENT: out of registers")

    with pytest.raises(RuntimeError, match="out of registers"):
        _programs._compile(Refusing(), {"xla_cpu_use_fusion_emitters": False})
