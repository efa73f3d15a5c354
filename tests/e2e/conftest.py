"""Makes the oxtest harness importable and registers its fixtures."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

pytest_plugins = ["oxtest.fixtures"]
