"""The generated float coefficients are up to date with the SymPy source (rntk_sym.duals)."""
from rntk_sym import codegen


def test_generated_file_is_current():
    assert codegen.TARGET.read_text() == codegen.render(), "run: python -m rntk_sym.codegen"
