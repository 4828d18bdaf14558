from gfo_native.demo import SECTIONS, bo


def test_bo_demo_section():
    out = bo.run(quick=True)
    assert "bo" in SECTIONS
    assert "median regret" in out and "random_search" in out and "mixed space" in out
