"""The wheel on its own: installed into a bare venv with no index and no
dependencies, `import ragd` works, finds the packaged models and searches;
the framework modules say what to install when their framework is missing."""

import glob
import json
import os
import subprocess
import sys
import venv

import pytest

from conftest import SOURCE_DIR


def test_wheel_installs_and_works_without_dependencies(tmp_path):
    wheels = sorted(glob.glob(str(SOURCE_DIR / "dist" / "ragd-*.whl")))
    if not wheels:
        pytest.skip("no wheel in dist/ (make wheel)")
    # Inside the checkout, so the packaged models are found above the module
    # as the program finds them.
    env_dir = SOURCE_DIR / "build" / f"bare-venv-{os.getpid()}"
    try:
        venv.create(env_dir, with_pip=True)
        py = str(env_dir / "bin" / "python")
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", wheels[-1]], check=True)
        listed = subprocess.run([py, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True,
                                check=True).stdout
        installed = sorted(p["name"] for p in json.loads(listed))
        assert [p for p in installed if p not in ("pip", "setuptools")] == ["ragd"], installed
        script = (
            "import ragd, sys\n"
            "kb = ragd.open('bare', sys.argv[1])\n"
            "kb.add_texts(['The Gold card costs 380 yuan a year.', 'Wire transfers abroad take 1 to 3 days.'])\n"
            "print(kb.search('gold card price', k=1)[0].text)\n"
            "import os, pydoc\n"
            "pkg = os.path.dirname(ragd.__file__)\n"
            "print(sorted(f for f in os.listdir(pkg) if f.endswith(('.pyi', '.typed'))))\n"
            "print('Args:' in pydoc.render_doc(ragd.KnowledgeBase.search) and 'class Hit' in open(os.path.join(pkg, '_ragd.pyi')).read())\n"
            "try:\n"
            "    import ragd.langchain\n"
            "except ImportError as e:\n"
            "    print(e)\n")
        env = {k: v for k, v in os.environ.items() if k not in ("RAGD_MODELS_DIR", "PYTHONPATH")}
        out = subprocess.run([py, "-c", script, str(tmp_path)], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=300)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0] == "The Gold card costs 380 yuan a year."
        assert lines[1] == "['_ragd.pyi', 'py.typed']"  # type stubs and the typed marker ship
        assert lines[2] == "True"  # docstrings, and the stub has the classes
        assert lines[3] == "ragd.langchain needs langchain-core: pip install 'ragd[langchain]'"
    finally:
        subprocess.run(["rm", "-rf", str(env_dir)])
