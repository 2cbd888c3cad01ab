"""The generated files are up to date with their sources: the float coefficients with SymPy
(rntk_sym.duals), the double-double step with rntk_sym.recursions.relu_increments, the cached runner's
entry point with the hash of everything compiled into it."""
import pytest

from rntk_sym import codegen


def test_generated_file_is_current():
    assert codegen.TARGET.read_text() == codegen.render(), "run: python -m rntk_sym.codegen"


def test_double_double_step_is_current():
    assert codegen.DD_TARGET.read_text() == codegen.render_dd_step(), "run: python -m rntk_sym.codegen"
    assert codegen.ENTRY_TARGET.read_text() == codegen.render_dd_entry(), "run: python -m rntk_sym.codegen"


def test_tracer_refuses_python_branches():
    # the traced step must choose with ctx.where: a Python `if` on a traced number cannot be translated
    tape = codegen._Tape()
    x = codegen.Traced(tape, "input", (), name="u")
    with pytest.raises(TypeError, match="ctx.where"):
        bool(x <= 1)
    with pytest.raises(TypeError, match="cannot trace"):
        x + 0.5  # a float constant would be rounded silently: only ints and Fractions are traced
