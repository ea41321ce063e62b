"""Test support shared by the suite and the benchmarks: isolated worlds, OpenCode, guards."""
