"""The server's layout rules, read from its source: every limit is a setting (one field, one
environment variable, one flag, one row of the documented settings table), and the server
fills through the filler interface without knowing which kind of filler it holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.main import parse_settings
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
MODULES = sorted(APP.rglob("*.py"))
# the modules that build fillers and describe them; everything else uses the interface only
KIND_AWARE = {APP / "loading.py", APP / "presentation.py"}
INTERFACE = {"Filler", "Runner"}


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def is_number(node: ast.expr | None) -> bool:
    """A literal number, or arithmetic on literal numbers only (``4096 * 4096``, ``2**20``)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp):
        return is_number(node.operand)
    if isinstance(node, ast.BinOp):
        return is_number(node.left) and is_number(node.right)
    return False


def numeric_constants(path: Path) -> list[str]:
    """Names bound to a literal number at module level or in a class body (an enum's members,
    and counters that start at 0, are no limits)."""
    found = []

    def scan(body: list[ast.stmt], where: str, counters_allowed: bool) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                bases = {getattr(base, "id", getattr(base, "attr", "")) for base in node.bases}
                if not bases & {"Enum", "IntEnum"}:
                    scan(node.body, f"{node.name}.", counters_allowed=True)
                continue
            if isinstance(node, ast.Assign | ast.AnnAssign) and is_number(node.value):
                if counters_allowed and isinstance(node.value, ast.Constant) and node.value.value == 0:
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = ", ".join(ast.unparse(t) for t in targets)
                found.append(f"{shown(path)}:{node.lineno}: {where}{names}")

    scan(tree(path).body, "", counters_allowed=False)
    return found


def test_no_module_of_the_server_but_its_settings_defines_a_numeric_limit():
    found = [hit for path in MODULES if path != APP / "settings.py" for hit in numeric_constants(path)]
    assert not found, "limits belong in app/settings.py:\n" + "\n".join(found)


def test_the_check_finds_a_limit_outside_the_settings(tmp_path):
    """The rule above is not vacuous: it sees module constants and class defaults alike."""
    sample = tmp_path / "sample.py"
    sample.write_text("LIMIT = 4096 * 4096\nclass Lane:\n    depth: int = 32\n    served: int = 0\n")
    hits = numeric_constants(sample)
    assert [hit.rsplit(": ", 1)[-1] for hit in hits] == ["LIMIT", "Lane.depth"]


def test_the_server_never_asks_which_kind_of_filler_it_holds():
    """No isinstance on a filler class anywhere in app/, and outside loading and presentation
    nothing but the interface is imported from model.fillers."""
    found = []
    for path in MODULES:
        for node in ast.walk(tree(path)):
            where = f"{shown(path)}:{getattr(node, 'lineno', 0)}"
            is_isinstance = isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance"
            if is_isinstance and len(node.args) == 2 and re.search(r"Filler\b", ast.unparse(node.args[1])):
                found.append(f"{where}: {ast.unparse(node)}")
            if isinstance(node, ast.ImportFrom) and node.module == "model.fillers" and path not in KIND_AWARE:
                found += [f"{where}: imports {a.name}" for a in node.names if a.name not in INTERFACE]
    assert not found, "\n".join(found)


def test_model_loading_presentation_and_scheduling_live_apart():
    assert not (APP / "registry.py").exists()
    imports = {
        path.stem: {node.module for node in ast.walk(tree(path)) if isinstance(node, ast.ImportFrom)}
        for path in (APP / "loading.py", APP / "presentation.py", APP / "scheduling.py", APP / "admission.py")
    }
    assert "app.scheduling" not in imports["presentation"] and "app.loading" not in imports["presentation"]
    assert "app.presentation" not in imports["scheduling"] and "app.loading" not in imports["scheduling"]
    assert "app.loading" not in imports["admission"]


SETTINGS_TABLE = re.search(
    r"^## Settings\n(.*?)^## ", (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"), re.M | re.S
)


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_an_environment_variable_a_flag_and_a_documented_row(name: str, monkeypatch):
    variable, flag = f"CE_{name.upper()}", f"--{name.replace('_', '-')}"
    assert SETTINGS_TABLE is not None
    assert re.search(rf"^\| `{variable}`", SETTINGS_TABLE.group(1), re.M), f"{variable} is not in the table"
    value = {"device": "cpu", "host": "::1", "weights": "w.pt", "models_dir": "m"}.get(name, "3")
    monkeypatch.setenv(variable, value)
    from_environment = getattr(Settings(), name)
    monkeypatch.delenv(variable)
    assert getattr(parse_settings([flag, value]), name) == from_environment != getattr(Settings(), name)
